"""What happens to running clocks when customers write, we answer, or the status changes."""

from collections import defaultdict
from datetime import datetime

from django.db import transaction

from socialdesk.audit.models import Event
from socialdesk.cases.models import Case, SlaClock, SlaPolicy
from socialdesk.cases.sla.common import (
    BUSINESS_KINDS,
    CLOCK_FIELDS,
    DEFAULT_WARN_PERCENT,
    DONE_STATUSES,
    EVENT_FIELDS,
    RESPONSE_KINDS,
    RUNNING,
    WORK_DECISIONS,
    Calendars,
    Kind,
    State,
    enabled_policies,
    policy_for,
    refresh_due,
    stop_response,
)
from socialdesk.cases.sla.starting import NewClock, Starter
from socialdesk.connectors import channels
from socialdesk.lib.bulk import bulk_update_fields, insert_rows


# The pipeline calls these inside its batch's transaction, which an error undoes
# as a whole: a savepoint of their own would only add two statements a call.
@transaction.atomic(savepoint=False)
def do_note_inbound(items: list[tuple[int, datetime, bool]], now: datetime) -> None:
    """Customer posts that joined existing cases: (case id, created_at, is private).

    Call it after the cases' statuses are written: a case still resolved or closed
    starts nothing, and a pending case that the post reopened is resumed by
    `do_note_status`, not here.
    """
    if not items:
        return
    ids = {case_id for case_id, _, _ in items}
    # What the clocks read of a case and its team (policy_for, Starter.start); the
    # pipeline calls this for every case its posts join, so the rest stays unread.
    cases = (Case.objects.select_related("team")
             .only("id", "decision", "status", "first_response_at", "channel", "priority",
                   "team__slug", "team__calendar_id").in_bulk(ids))
    running: dict[int, list[SlaClock | NewClock]] = defaultdict(list)
    for clock in SlaClock.objects.filter(case_id__in=ids, state__in=RUNNING,
                                         kind__in=(Kind.NEXT_RESPONSE, Kind.REPLY_WINDOW)):
        running[clock.case_id].append(clock)
    policies = enabled_policies()
    starter = Starter(now)
    for case_id, at, private in sorted(items, key=lambda item: item[1]):
        case = cases.get(case_id)
        if case is None or case.decision not in WORK_DECISIONS or not case.is_open:
            continue
        clocks = running[case_id]
        answered = case.first_response_at
        if answered is not None and at > answered and not any(
                c.kind == Kind.NEXT_RESPONSE for c in clocks):
            policy = policy_for(case, policies)
            if policy and policy.next_response_minutes:
                clocks.append(starter.start(case, Kind.NEXT_RESPONSE, policy,
                                            policy.next_response_minutes * 60, at))
        window = channels.channel(case.channel).reply_window
        if not (private and window):
            continue
        old = [c for c in clocks if c.kind == Kind.REPLY_WINDOW]
        if any(c.started_at >= at for c in old):
            continue  # a later message already opened the window further
        for clock in old:
            clocks.remove(clock)
            if clock.pk is None:
                starter.clocks.remove(clock)  # opened by an earlier post of this batch
            else:
                SlaClock.objects.filter(pk=clock.pk, state__in=RUNNING).update(
                    state=State.CLOSED, stopped_at=at)
        clocks.append(starter.start(case, Kind.REPLY_WINDOW, None,
                                    int(window.total_seconds()), at))
    starter.save()
    refresh_due(ids)


@transaction.atomic
def do_note_response(case: Case, at: datetime) -> None:
    """Our reply was delivered at `at`: response clocks stop, the reply window closes.

    `case` may be any object with `pk` (the pipeline's rows for cases it just opened).
    Pass the time of the earliest reply not yet noted: it is what the targets count.
    """
    do_note_responses({case.pk: at})


@transaction.atomic(savepoint=False)
def do_note_responses(answered: dict[int, datetime]) -> None:
    """`do_note_response` for many cases at once (case id → time of our reply): one
    read and one write, whatever the number, for the pipeline's imports."""
    if not answered:
        return
    # Locked while they change (PostgreSQL): a tick must not breach a clock
    # this answer is stopping.
    clocks = list(SlaClock.objects.select_for_update().filter(
        case_id__in=list(answered), stopped_at__isnull=True,
        kind__in=(*RESPONSE_KINDS, Kind.REPLY_WINDOW), state__in=(*RUNNING, State.MISSED)))
    events, changed = [], []
    for clock in clocks:
        at = answered[clock.case_id]
        before = clock.state
        if clock.kind == Kind.REPLY_WINDOW:
            if before in RUNNING:
                clock.state, clock.stopped_at = State.CLOSED, at
                changed.append(clock)
            continue
        stop_response(clock, at)
        changed.append(clock)
        if clock.state != before:
            events.append((at, f"sla.{clock.state}", clock.case_id,
                           {"kind": clock.kind, "due_at": clock.due_at.isoformat(),
                            "policy": clock.policy}))
    bulk_update_fields(changed, ["state", "breached_at", "stopped_at"])
    insert_rows(Event, EVENT_FIELDS, events, returning=False)
    refresh_due({clock.case_id for clock in changed})


@transaction.atomic
def do_note_status(case: Case, before: str, after: str, at: datetime) -> None:
    """The case's status changed from `before` to `after` at `at`."""
    do_note_statuses([(case, before, after, at)])


def do_note_statuses(changes: list[tuple[Case, str, str, datetime]]) -> None:
    """`do_note_status` for several changes, in order (the pipeline reopens a few
    cases a batch): the policies and calendars are read once, and the new clocks,
    the events and the cases' due times are written together."""
    changes = [change for change in changes if change[1] != change[2]]
    if not changes:
        return
    with transaction.atomic(savepoint=False):
        writes = _Writes()
        for case, before, after, at in changes:
            if case.pk in writes.cases:
                writes.flush()  # a second change of a case reads what its first wrote
            writes.cases.add(case.pk)
            if after in DONE_STATUSES:
                if before not in DONE_STATUSES:
                    _stop_all(case, at, writes)
            elif before in DONE_STATUSES:
                _start_resolution_again(case, after, at, writes)
            elif after == Case.Status.PENDING:
                _pause(case, at, writes)
            elif before == Case.Status.PENDING:
                _resume(case, at, writes)
        writes.flush()


class _Writes:
    """What status changes write in bulk: new clocks, events (in the order they
    happened) and the cases whose due time to refresh; and what they read once."""

    def __init__(self):
        self.calendars = Calendars()
        self._policies: list[SlaPolicy] | None = None
        self.clocks: list[NewClock] = []
        self.events: list[tuple] = []
        self.cases: set[int] = set()

    @property
    def policies(self) -> list[SlaPolicy]:
        if self._policies is None:
            self._policies = enabled_policies()
        return self._policies

    def event(self, case: Case, verb: str, at: datetime, **data) -> None:
        self.events.append((at, verb, case.pk, data))

    def flush(self) -> None:
        insert_rows(SlaClock, CLOCK_FIELDS, [c.row() for c in self.clocks], returning=False)
        insert_rows(Event, EVENT_FIELDS, self.events, returning=False)
        refresh_due(self.cases)
        self.clocks, self.events, self.cases = [], [], set()


def _stop_all(case: Case, at: datetime, writes: _Writes) -> None:
    for clock in SlaClock.objects.filter(case_id=case.pk, stopped_at__isnull=True,
                                         state__in=(*RUNNING, State.MISSED)):
        before = clock.state
        if before == State.MISSED:
            clock.stopped_at = at  # breached earlier: it stays missed, and ends here
        elif clock.kind == Kind.RESOLUTION:
            stop_response(clock, at)
            writes.event(case, f"sla.{clock.state}", at, kind=clock.kind,
                         due_at=clock.due_at.isoformat(), policy=clock.policy)
        else:
            # Resolved without (another) reply: nothing left to answer, so no verdict.
            clock.state, clock.stopped_at = State.CLOSED, at
        SlaClock.objects.filter(pk=clock.pk, state=before).update(
            state=clock.state, breached_at=clock.breached_at, stopped_at=at)


def _start_resolution_again(case: Case, after: str, at: datetime, writes: _Writes) -> None:
    policy = policy_for(case, writes.policies)
    if not (policy and policy.resolution_minutes):
        return
    starter = Starter(at, writes.calendars)
    clock = starter.start(case, Kind.RESOLUTION, policy, policy.resolution_minutes * 60, at)
    if after == Case.Status.PENDING:
        clock.state, clock.paused_at = State.PAUSED, at
        clock.remaining_seconds = float(clock.target_seconds)
    writes.clocks += starter.clocks
    writes.events += starter.events()
    writes.event(case, "sla.started", at, kinds=[Kind.RESOLUTION], why="reopened")


def _pause(case: Case, at: datetime, writes: _Writes) -> None:
    calendar = writes.calendars.of(case.team)
    paused = []
    # A clock already past due stays active: the evaluator breaches it on its next tick.
    for clock in SlaClock.objects.filter(case_id=case.pk, state=State.ACTIVE,
                                         kind__in=BUSINESS_KINDS, due_at__gt=at):
        remaining = calendar.seconds_between(at, clock.due_at)
        if SlaClock.objects.filter(pk=clock.pk, state=State.ACTIVE).update(
                state=State.PAUSED, remaining_seconds=remaining, paused_at=at):
            paused.append(clock.kind)
    if paused:
        writes.event(case, "sla.paused", at, kinds=paused, why="pending on the customer")


def _resume(case: Case, at: datetime, writes: _Writes) -> None:
    clocks = list(SlaClock.objects.filter(case_id=case.pk, state=State.PAUSED))
    if not clocks:
        return
    calendar = writes.calendars.of(case.team)
    percents = dict(SlaPolicy.objects.filter(name__in={c.policy for c in clocks})
                    .values_list("name", "warn_at_percent"))
    resumed = {}
    for clock in clocks:
        remaining = max(clock.remaining_seconds or 0.0, 0.0)
        due = calendar.add(at, remaining)
        warn = clock.warn_at
        if clock.warned_at is None:
            # The warning keeps its place in the target: what was left of the time
            # before it when the clock paused.
            percent = percents.get(clock.policy, DEFAULT_WARN_PERCENT)
            before_warning = remaining - clock.target_seconds * (100 - percent) / 100
            warn = calendar.add(at, max(before_warning, 0.0))
        if SlaClock.objects.filter(pk=clock.pk, state=State.PAUSED).update(
                state=State.ACTIVE, due_at=due, warn_at=warn, remaining_seconds=None,
                paused_at=None):
            resumed[clock.kind] = due.isoformat()
    if resumed:
        writes.event(case, "sla.resumed", at, due=resumed, why="the case is open again")
