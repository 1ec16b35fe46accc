"""SLA clocks: targets that start with a case, pause while it waits on the customer,
stop on our reply or its resolution, and warn and act when they run out.

Due and warning times are worked out in the team's business calendar when a clock
starts or resumes and stored as instants, so `do_evaluate_clocks`, which watches
every open case, only compares timestamps along two indexes.
"""

import logging
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction

from socialdesk.accounts.models import BusinessCalendar, Team, User
from socialdesk.audit.models import Event
from socialdesk.cases.models import Case, SlaClock, SlaPolicy
from socialdesk.lib.bulk import bulk_update_fields, insert_rows
from socialdesk.lib.calendar import Calendar
from socialdesk.notifications.actions import do_notify_many
from socialdesk.routing.actions import ASSIGN_FIELDS, do_escalate, hand_over, needs_of
from socialdesk.routing.assign import Assigner, escalation_chain

logger = logging.getLogger(__name__)

# Meta's 24-hour messaging window: a Page or Instagram professional account may answer a
# person's private message only within 24 hours of that person's last message; after that
# only tagged messages are allowed (Messenger Platform policy overview, "standard
# messaging", developers.facebook.com/docs/messenger-platform/policy/policy-overview).
REPLY_WINDOWS: dict[str, timedelta] = {
    "facebook": timedelta(hours=24),
    "instagram": timedelta(hours=24),
}
REPLY_WINDOW_WARNING = timedelta(hours=4)

Kind = SlaClock.Kind
State = SlaClock.State
RESPONSE_KINDS = (Kind.FIRST_RESPONSE, Kind.NEXT_RESPONSE)
BUSINESS_KINDS = (*RESPONSE_KINDS, Kind.RESOLUTION)
RUNNING = (State.ACTIVE, State.PAUSED)
WORK_DECISIONS = ("respond", "escalate")
DONE_STATUSES = (Case.Status.RESOLVED, Case.Status.CLOSED)
DEFAULT_WARN_PERCENT = 75
DEFAULT_BREACH_ACTIONS = (SlaPolicy.Action.NOTIFY_SUPERVISOR,)
CLOCK_FIELDS = ["case", "kind", "policy", "state", "target_seconds", "started_at", "due_at",
                "warn_at", "breached_at", "stopped_at", "remaining_seconds", "paused_at"]
EVENT_FIELDS = ["at", "verb", "case", "data"]
CHUNK = 500
# What breach actions and messages read of a case; the rest stays in the database.
CASE_FIELDS = ("id", "status", "priority", "channel", "lang", "topics", "team", "assignee",
               "assigned_at", "reassign_at", "updated_at")


@dataclass
class ClockReport:
    warned: int = 0
    breached: int = 0
    windows_closing: int = 0
    windows_closed: int = 0
    actions: dict[str, int] = field(default_factory=dict)


def policy_for(case, policies: list[SlaPolicy]) -> SlaPolicy | None:
    team = case.team.slug if case.team is not None else ""
    for policy in sorted(policies, key=lambda p: (p.position, p.pk or 0)):
        if (policy.enabled and _allows(policy.priorities, case.priority)
                and _allows(policy.channels, case.channel) and _allows(policy.teams, team)):
            return policy
    return None


def _allows(values: list, value: str) -> bool:
    return not values or value in values


def case_sla_status(clocks: list[SlaClock]) -> str:
    states = {clock.state for clock in clocks}
    if State.MISSED in states:
        return "missed"
    if states.intersection(RUNNING):
        return "active"
    if State.HIT in states:
        return "hit"
    return ""


class _Calendars:
    """Business calendars by team, each built once per call: building one parses its spec."""

    def __init__(self):
        self._built: dict[int | None, Calendar] = {None: Calendar.always()}

    def of(self, team: Team | None) -> Calendar:
        key = team.calendar_id if team is not None else None
        if key not in self._built:
            self._built[key] = BusinessCalendar.objects.get(pk=key).calendar()
        return self._built[key]


@dataclass(slots=True, eq=False)
class _NewClock:
    """A clock not yet inserted: thousands a batch make model instances a real cost."""

    case_id: int
    kind: str
    policy: str
    target_seconds: int
    started_at: datetime
    due_at: datetime
    warn_at: datetime
    state: str = State.ACTIVE
    breached_at: datetime | None = None
    stopped_at: datetime | None = None
    remaining_seconds: float | None = None
    paused_at: datetime | None = None
    pk: None = None

    def row(self) -> tuple:
        return (self.case_id, self.kind, self.policy, self.state, self.target_seconds,
                self.started_at, self.due_at, self.warn_at, self.breached_at, self.stopped_at,
                self.remaining_seconds, self.paused_at)


class _Starter:
    """New clocks, written in one statement by `save`."""

    def __init__(self, now: datetime):
        self.now = now
        self.calendars = _Calendars()
        self.clocks: list[_NewClock] = []
        self.late: dict[int, list[str]] = defaultdict(list)

    def start(self, case, kind: str, policy: SlaPolicy | None, seconds: int,
              at: datetime, answered_at: datetime | None = None) -> _NewClock:
        if kind == Kind.REPLY_WINDOW:
            # The platform counts wall-clock time, whatever the team's hours.
            due = at + timedelta(seconds=seconds)
            warn = due - REPLY_WINDOW_WARNING
        else:
            calendar = self.calendars.of(case.team)
            percent = policy.warn_at_percent if policy else DEFAULT_WARN_PERCENT
            due = calendar.add(at, seconds)
            warn = calendar.add(at, seconds * percent / 100)
        clock = _NewClock(case.pk, kind, policy.name if policy else "", seconds, at, due, warn)
        if answered_at is not None:
            _stop_response(clock, answered_at)
        elif due <= self.now:
            # Already over when it starts (a historical import): recorded as such, but
            # warning or acting on it now would only alarm people about the past.
            clock.state = State.CLOSED if kind == Kind.REPLY_WINDOW else State.MISSED
            clock.breached_at = due
            self.late[case.pk].append(kind)
        self.clocks.append(clock)
        return clock

    def save(self) -> None:
        insert_rows(SlaClock, CLOCK_FIELDS, [c.row() for c in self.clocks], returning=False)
        # One event per case, so that its page says why a target shows as missed
        # although nobody was warned or told.
        insert_rows(Event, EVENT_FIELDS, [
            (self.now, "sla.missed_on_arrival", case_id,
             {"kinds": kinds, "why": "already past due when its clock started; no warning "
                                     "or breach actions"})
            for case_id, kinds in self.late.items()], returning=False)


def _enabled_policies() -> list[SlaPolicy]:
    return list(SlaPolicy.objects.filter(enabled=True).order_by("position", "id"))


@dataclass(slots=True)
class _Due:
    pk: int
    first_response_due: datetime


@transaction.atomic
def do_start_clocks(cases: list, matrix_minutes: dict[int, int | None], now: datetime) -> None:
    """Start the clocks of cases just inserted. A case object that already carries a
    `first_response_at` (an answer in the same imported batch) gets its first-response
    clock stopped at once; `first_response_due` is set on the objects that have it."""
    policies = _enabled_policies()
    matched: dict[tuple, SlaPolicy | None] = {}
    starter = _Starter(now)
    dues: list[_Due] = []
    for case in cases:
        if case.decision not in WORK_DECISIONS or case.status == Case.Status.CLOSED:
            continue
        key = (case.priority, case.channel, case.team.slug if case.team is not None else "")
        if key not in matched:
            matched[key] = policy_for(case, policies)
        policy = matched[key]
        minutes = (policy and policy.first_response_minutes) or matrix_minutes.get(case.pk)
        if minutes:
            clock = starter.start(case, Kind.FIRST_RESPONSE, policy, minutes * 60,
                                  case.opened_at, getattr(case, "first_response_at", None))
            dues.append(_Due(case.pk, clock.due_at))
            if hasattr(case, "first_response_due"):
                case.first_response_due = clock.due_at
        if policy and policy.resolution_minutes:
            starter.start(case, Kind.RESOLUTION, policy, policy.resolution_minutes * 60,
                          case.opened_at)
        window = REPLY_WINDOWS.get(case.channel)
        if window and getattr(case, "visibility_private", False):
            starter.start(case, Kind.REPLY_WINDOW, None, int(window.total_seconds()),
                          case.last_inbound_at)
    starter.save()
    bulk_update_fields(dues, ["first_response_due"], model=Case)


def _stop_response(clock: SlaClock | _NewClock, at: datetime) -> None:
    """Our answer at `at` ends a response clock in memory; the caller writes it.

    The answer's own time decides. A clock already missed stays missed when we answer
    late; one that an import marked missed on arrival (or a tick breached before the
    answer was noted) turns out hit when the answer was in fact on time.
    """
    if clock.state == State.PAUSED:
        on_time = (clock.remaining_seconds or 0) > 0
    else:
        on_time = at <= clock.due_at
    clock.state = State.HIT if on_time else State.MISSED
    if on_time:
        clock.breached_at = None
    elif clock.breached_at is None:
        clock.breached_at = clock.due_at
    clock.stopped_at = at


@transaction.atomic
def do_note_inbound(items: list[tuple[int, datetime, bool]], now: datetime) -> None:
    """Customer posts that joined existing cases: (case id, created_at, is private).

    Call it after the cases' statuses are written: a case still resolved or closed
    starts nothing, and a pending case that the post reopened is resumed by
    `do_note_status`, not here.
    """
    if not items:
        return
    ids = {case_id for case_id, _, _ in items}
    cases = Case.objects.select_related("team").in_bulk(ids)
    running: dict[int, list[SlaClock | _NewClock]] = defaultdict(list)
    for clock in SlaClock.objects.filter(case_id__in=ids, state__in=RUNNING,
                                         kind__in=(Kind.NEXT_RESPONSE, Kind.REPLY_WINDOW)):
        running[clock.case_id].append(clock)
    policies = _enabled_policies()
    starter = _Starter(now)
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
        window = REPLY_WINDOWS.get(case.channel)
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


@transaction.atomic
def do_note_response(case: Case, at: datetime) -> None:
    """Our reply was delivered at `at`: response clocks stop, the reply window closes.

    `case` may be any object with `pk` (the pipeline's rows for cases it just opened).
    Pass the time of the earliest reply not yet noted: it is what the targets count.
    """
    do_note_responses({case.pk: at})


@transaction.atomic
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
        _stop_response(clock, at)
        changed.append(clock)
        if clock.state != before:
            events.append((at, f"sla.{clock.state}", clock.case_id,
                           {"kind": clock.kind, "due_at": clock.due_at.isoformat(),
                            "policy": clock.policy}))
    bulk_update_fields(changed, ["state", "breached_at", "stopped_at"])
    insert_rows(Event, EVENT_FIELDS, events, returning=False)


@transaction.atomic
def do_note_status(case: Case, before: str, after: str, at: datetime) -> None:
    """The case's status changed from `before` to `after` at `at`."""
    if before == after:
        return
    if after in DONE_STATUSES:
        if before not in DONE_STATUSES:
            _stop_all(case, at)
        return
    if before in DONE_STATUSES:
        _start_resolution_again(case, after, at)
    elif after == Case.Status.PENDING:
        _pause(case, at)
    elif before == Case.Status.PENDING:
        _resume(case, at)


def _stop_all(case: Case, at: datetime) -> None:
    events = []
    for clock in SlaClock.objects.filter(case_id=case.pk, stopped_at__isnull=True,
                                         state__in=(*RUNNING, State.MISSED)):
        before = clock.state
        if before == State.MISSED:
            clock.stopped_at = at  # breached earlier: it stays missed, and ends here
        elif clock.kind == Kind.RESOLUTION:
            _stop_response(clock, at)
            events.append((at, f"sla.{clock.state}", case.pk,
                           {"kind": clock.kind, "due_at": clock.due_at.isoformat(),
                            "policy": clock.policy}))
        else:
            # Resolved without (another) reply: nothing left to answer, so no verdict.
            clock.state, clock.stopped_at = State.CLOSED, at
        SlaClock.objects.filter(pk=clock.pk, state=before).update(
            state=clock.state, breached_at=clock.breached_at, stopped_at=at)
    insert_rows(Event, EVENT_FIELDS, events, returning=False)


def _start_resolution_again(case: Case, after: str, at: datetime) -> None:
    policy = policy_for(case, _enabled_policies())
    if not (policy and policy.resolution_minutes):
        return
    starter = _Starter(at)
    clock = starter.start(case, Kind.RESOLUTION, policy, policy.resolution_minutes * 60, at)
    if after == Case.Status.PENDING:
        clock.state, clock.paused_at = State.PAUSED, at
        clock.remaining_seconds = float(clock.target_seconds)
    starter.save()
    _record(case, "sla.started", at, kinds=[Kind.RESOLUTION], why="reopened")


def _pause(case: Case, at: datetime) -> None:
    calendar = _Calendars().of(case.team)
    paused = []
    # A clock already past due stays active: the evaluator breaches it on its next tick.
    for clock in SlaClock.objects.filter(case_id=case.pk, state=State.ACTIVE,
                                         kind__in=BUSINESS_KINDS, due_at__gt=at):
        remaining = calendar.seconds_between(at, clock.due_at)
        if SlaClock.objects.filter(pk=clock.pk, state=State.ACTIVE).update(
                state=State.PAUSED, remaining_seconds=remaining, paused_at=at):
            paused.append(clock.kind)
    if paused:
        _record(case, "sla.paused", at, kinds=paused, why="pending on the customer")


def _resume(case: Case, at: datetime) -> None:
    clocks = list(SlaClock.objects.filter(case_id=case.pk, state=State.PAUSED))
    if not clocks:
        return
    calendar = _Calendars().of(case.team)
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
        _record(case, "sla.resumed", at, due=resumed, why="the case is open again")


def _record(case: Case, verb: str, at: datetime, **data) -> None:
    insert_rows(Event, EVENT_FIELDS, [(at, verb, case.pk, data)], returning=False)


# -- the clock -------------------------------------------------------------------------------


def do_evaluate_clocks(now: datetime) -> ClockReport:
    """Warn on clocks that reached their warning time and act on those that ran out.

    Each clock is claimed by a conditional UPDATE before anything is said about it,
    so two evaluations at once never warn or act twice.
    """
    report = ClockReport()
    with transaction.atomic():
        # Breaches first: a clock that reaches both times in one tick is only breached.
        breached = _claim(
            "breached_at = %s, state = CASE WHEN kind = %s THEN %s ELSE %s END, "
            "stopped_at = CASE WHEN kind = %s THEN %s ELSE stopped_at END",
            "state = %s AND due_at <= %s AND breached_at IS NULL",
            [now, Kind.REPLY_WINDOW, State.CLOSED, State.MISSED, Kind.REPLY_WINDOW, now,
             State.ACTIVE, now])
        warned = _claim("warned_at = %s", "state = %s AND warn_at <= %s AND warned_at IS NULL",
                        [now, State.ACTIVE, now])
        if not breached and not warned:
            return report
        tick = _Tick(now)
        clocks = tick.load(breached + warned, breached)
        tick.warn([clocks[pk] for pk in warned], report)
        tick.breach([clocks[pk] for pk in breached], report)
        tick.flush()
    return report


def _claim(assignments: str, condition: str, params: list) -> list[int]:
    table = connection.ops.quote_name(SlaClock._meta.db_table)
    params = [connection.ops.adapt_datetimefield_value(p) if isinstance(p, datetime)
              else str(p) for p in params]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {assignments} WHERE {condition} RETURNING id",
                       params)
        return sorted(row[0] for row in cursor.fetchall())


class _Tick:
    """What one evaluation reads once and writes in bulk: teams with their chains,
    policies, the assigner's loads, events, notifications."""

    def __init__(self, now: datetime):
        self.now = now
        self.teams = {t.pk: t for t in Team.objects.select_related("supervisor")}
        for team in self.teams.values():
            if team.parent_id:
                team.parent = self.teams[team.parent_id]
        self.policies = {p.name: p for p in SlaPolicy.objects.filter(enabled=True)}
        self._chains: dict[int, list[User]] = {}
        self._admins: list[User] | None = None
        self._assigner: Assigner | None = None
        self.events: list[tuple] = []
        self.notices: list[tuple] = []
        self.changed: dict[int, Case] = {}  # written in one statement by `flush`

    def load(self, ids: list[int], breached: list[int]) -> dict[int, "_Fired"]:
        fired = {}
        for chunk in _chunks(ids):
            for row in SlaClock.objects.filter(id__in=chunk).values_list(
                    "id", "case_id", "kind", "policy", "due_at"):
                fired[row[0]] = _Fired(*row)
        acted_on = {fired[pk].case_id for pk in breached if fired[pk].kind != Kind.REPLY_WINDOW}
        # One Case object per case, however many of its clocks fire, with only what
        # messages and actions read: thousands of full rows cost more than the claims.
        # Cases that breach are locked until the tick commits (PostgreSQL; on SQLite the
        # claim already holds the write lock), so the actions can write what they read
        # without a conditional update per case.
        cases: dict[int, Case] = {}
        for locked in (True, False):
            wanted = sorted(acted_on if locked else {f.case_id for f in fired.values()
                                                     if f.case_id not in acted_on})
            rows = Case.objects.select_for_update() if locked else Case.objects.all()
            for chunk in _chunks(wanted):
                cases.update((case.pk, case) for case in rows.filter(id__in=chunk).only(
                    *CASE_FIELDS))
        users = User.objects.in_bulk({c.assignee_id for c in cases.values() if c.assignee_id})
        for case in cases.values():
            case.team = self.teams.get(case.team_id)
            case.assignee = users.get(case.assignee_id)
        for clock in fired.values():
            clock.case = cases[clock.case_id]
        return fired

    def chain(self, team: Team | None) -> list[User]:
        if team is None:
            return []
        if team.pk not in self._chains:
            self._chains[team.pk] = escalation_chain(team)
        return self._chains[team.pk]

    def supervisors(self, team: Team | None) -> list[User]:
        if self._admins is None:
            self._admins = list(User.objects.filter(role=User.Role.ADMIN, is_active=True))
        return self.chain(team)[:1] or self._admins

    @property
    def assigner(self) -> Assigner:
        if self._assigner is None:
            self._assigner = Assigner(self.now)
        return self._assigner

    def notify(self, verb: str, text: str, users: list, case: Case, **data) -> None:
        self.notices.append((verb, text, [u for u in users if u is not None], case, data))

    # -- warnings and breaches -----------------------------------------------------------------

    def warn(self, clocks: list["_Fired"], report: ClockReport) -> None:
        for clock in clocks:
            case = clock.case
            left = _in_words(clock.due_at - self.now)
            if clock.kind == Kind.REPLY_WINDOW:
                verb, text = "sla.window_closing", (
                    f"{case.ref}: the {case.channel} reply window closes in {left}")
                report.windows_closing += 1
            else:
                verb, text = "sla.warning", f"{case.ref}: {_label(clock)} due in {left}"
                report.warned += 1
            self.events.append((self.now, verb, case.pk, _clock_data(clock)))
            users = [case.assignee] if case.assignee_id else self.chain(case.team)[:1]
            self.notify(verb, text, users, case, kind=clock.kind)

    def breach(self, clocks: list["_Fired"], report: ClockReport) -> None:
        by_case: dict[int, list[_Fired]] = defaultdict(list)
        for clock in clocks:
            if clock.kind == Kind.REPLY_WINDOW:
                case = clock.case
                report.windows_closed += 1
                self.events.append((self.now, "sla.window_closed", case.pk, _clock_data(clock)))
                self.notify("sla.window_closed",
                            f"{case.ref}: the {case.channel} reply window has closed; "
                            "answer by another route", [case.assignee], case, kind=clock.kind)
                continue
            report.breached += 1
            self.events.append((self.now, "sla.breached", clock.case_id, {
                **_clock_data(clock), "actions": list(self.actions_of(clock))}))
            by_case[clock.case_id].append(clock)
        # The breach events go in before the actions' own, which follow them in the log.
        self.flush_events()
        done: Counter[str] = Counter()
        for case_clocks in by_case.values():
            self._act(case_clocks, done)
        report.actions = dict(done)

    def actions_of(self, clock: "_Fired") -> tuple[str, ...]:
        # A policy renamed, removed or disabled since the clock started gives the default.
        policy = self.policies.get(clock.policy)
        return tuple(policy.breach_actions) if policy else DEFAULT_BREACH_ACTIONS

    def _act(self, clocks: list["_Fired"], done: Counter) -> None:
        for clock in clocks:
            for action in self.actions_of(clock):
                try:
                    if self._do(action, clock):
                        done[action] += 1
                except Exception as error:
                    # do_escalate undoes its own writes (it is atomic); what ran before
                    # stands. One case's failure must not stop the others' actions, and a
                    # savepoint per case would cost two round trips each.
                    logger.exception("SLA breach action %s failed for %s", action,
                                     clock.case.ref)
                    self.events.append((self.now, "sla.action_failed", clock.case_id, {
                        "action": action, "error": f"{type(error).__name__}: {error}"}))
                    return

    def _do(self, action: str, clock: "_Fired") -> bool:
        case = clock.case
        why = f"{_label(clock)} target missed"
        if action == SlaPolicy.Action.RAISE_PRIORITY:
            level = int(case.priority[1:]) if case.priority[1:].isdigit() else 0
            if level <= 0:
                return False
            before, case.priority = case.priority, f"P{level - 1}"
            case.updated_at = self.now
            self.changed[case.pk] = case
            self.events.append((self.now, "case.priority_raised", case.pk,
                                {"before": before, "after": case.priority, "why": why}))
            return True
        if action == SlaPolicy.Action.NOTIFY_SUPERVISOR:
            assignee = case.assignee.username if case.assignee else "unassigned"
            team = case.team.slug if case.team else "no team"
            self.notify("sla.breached", f"{case.ref}: {why} ({case.priority}, {team}, "
                        f"{assignee})", self.supervisors(case.team), case, kind=clock.kind)
            return True
        if action == SlaPolicy.Action.REASSIGN:
            return self._reassign(case, why)
        if action == SlaPolicy.Action.ESCALATE:
            before = {name: getattr(case, name) for name in ("team", *ASSIGN_FIELDS)}
            try:
                do_escalate(case, why=why, now=self.now)
            except Exception:
                # Its writes were rolled back; so must its changes to this object be,
                # which `flush` would otherwise write.
                for name, value in before.items():
                    setattr(case, name, value)
                raise
            return True
        logger.warning("unknown SLA breach action %r on policy %r", action, clock.policy)
        return False

    def _reassign(self, case: Case, why: str) -> bool:
        if case.team is None:
            return False
        before = case.assignee
        exclude = frozenset({before.pk}) if before else frozenset()
        pick = self.assigner.pick(case.team, needs_of(case), exclude=exclude)
        if pick.agent is None:
            self.events.append((self.now, "case.not_reassigned", case.pk,
                                {"before": before.username if before else None,
                                 "why": f"{why}; {pick.why}"}))
            return False
        hand_over(case, pick.agent, self.now)
        case.updated_at = self.now
        self.changed[case.pk] = case
        self.events.append((self.now, "case.reassigned", case.pk, {
            "before": before.username if before else None, "assignee": pick.agent.username,
            "why": f"{why}; {pick.why}"}))
        self.notify("case.reassigned", f"{case.ref} is yours: {why}.", [pick.agent], case)
        return True

    # -- writing -------------------------------------------------------------------------------

    def flush_events(self) -> None:
        insert_rows(Event, EVENT_FIELDS, self.events, returning=False)
        self.events = []

    def flush(self) -> None:
        self.flush_events()
        bulk_update_fields(list(self.changed.values()), ["priority", *ASSIGN_FIELDS], model=Case)
        if self._assigner is not None:
            self._assigner.save()  # round robin teams remember whose turn is next
        do_notify_many(self.notices, self.now)


@dataclass(slots=True)
class _Fired:
    """A clock this tick claimed, with just what its messages and actions need."""

    pk: int
    case_id: int
    kind: str
    policy: str
    due_at: datetime
    case: Case | None = None


def _chunks(ids: list[int]):
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _label(clock) -> str:
    return Kind(clock.kind).label.lower()


def _clock_data(clock) -> dict:
    return {"kind": clock.kind, "due_at": clock.due_at.isoformat(), "policy": clock.policy}


def _in_words(left: timedelta) -> str:
    minutes = max(0, math.ceil(left.total_seconds() / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours >= 48:
        return f"{hours // 24} d {hours % 24} h"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
