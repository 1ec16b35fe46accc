"""Starting clocks: a case's targets, worked out in its team's business time."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction

from socialdesk.audit.models import Event
from socialdesk.cases.models import Case, SlaClock, SlaPolicy
from socialdesk.cases.sla.common import (
    CLOCK_FIELDS,
    DEFAULT_WARN_PERCENT,
    EVENT_FIELDS,
    REPLY_WINDOW_WARNING,
    WORK_DECISIONS,
    Calendars,
    Kind,
    State,
    counts_for_due,
    enabled_policies,
    policy_for,
    stop_response,
)
from socialdesk.connectors import channels
from socialdesk.lib.bulk import bulk_update_fields, insert_rows


@dataclass(slots=True, eq=False)
class NewClock:
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


class Starter:
    """New clocks, written in one statement by `save`."""

    def __init__(self, now: datetime, calendars: Calendars | None = None):
        self.now = now
        self.calendars = calendars or Calendars()
        self.clocks: list[NewClock] = []
        self.late: dict[int, list[str]] = defaultdict(list)

    def start(self, case, kind: str, policy: SlaPolicy | None, seconds: int,
              at: datetime, answered_at: datetime | None = None) -> NewClock:
        if kind == Kind.REPLY_WINDOW:
            # The platform counts wall-clock time, whatever the team's hours.
            due = at + timedelta(seconds=seconds)
            warn = due - REPLY_WINDOW_WARNING
        else:
            calendar = self.calendars.of(case.team)
            percent = policy.warn_at_percent if policy else DEFAULT_WARN_PERCENT
            due = calendar.add(at, seconds)
            warn = calendar.add(at, seconds * percent / 100)
        clock = NewClock(case.pk, kind, policy.name if policy else "", seconds, at, due, warn)
        if answered_at is not None:
            stop_response(clock, answered_at)
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
        insert_rows(Event, EVENT_FIELDS, self.events(), returning=False)

    def events(self) -> list[tuple]:
        # One event per case, so that its page says why a target shows as missed
        # although nobody was warned or told.
        return [(self.now, "sla.missed_on_arrival", case_id,
                 {"kinds": kinds, "why": "already past due when its clock started; no warning "
                                         "or breach actions"})
                for case_id, kinds in self.late.items()]


@dataclass(slots=True)
class _Due:
    pk: int
    first_response_due: datetime | None
    sla_due_at: datetime | None


# Inside the pipeline's transaction, which an error undoes as a whole: a
# savepoint would only add two statements a batch.
@transaction.atomic(savepoint=False)
def do_start_clocks(cases: list, matrix_minutes: dict[int, int | None], now: datetime) -> None:
    """Start the clocks of cases just inserted. A case object that already carries a
    `first_response_at` (an answer in the same imported batch) gets its first-response
    clock stopped at once; `first_response_due` is set on the objects that have it.
    The cases' `sla_due_at` is written from the new clocks, with no query of its own."""
    policies = enabled_policies()
    matched: dict[tuple, SlaPolicy | None] = {}
    starter = Starter(now)
    dues: list[_Due] = []
    for case in cases:
        if case.decision not in WORK_DECISIONS or case.status == Case.Status.CLOSED:
            continue
        first = len(starter.clocks)
        first_due = None
        key = (case.priority, case.channel, case.team.slug if case.team is not None else "")
        if key not in matched:
            matched[key] = policy_for(case, policies)
        policy = matched[key]
        minutes = (policy and policy.first_response_minutes) or matrix_minutes.get(case.pk)
        if minutes:
            clock = starter.start(case, Kind.FIRST_RESPONSE, policy, minutes * 60,
                                  case.opened_at, getattr(case, "first_response_at", None))
            first_due = clock.due_at
            if hasattr(case, "first_response_due"):
                case.first_response_due = clock.due_at
        if policy and policy.resolution_minutes:
            starter.start(case, Kind.RESOLUTION, policy, policy.resolution_minutes * 60,
                          case.opened_at)
        window = channels.channel(case.channel).reply_window
        if window and getattr(case, "visibility_private", False):
            starter.start(case, Kind.REPLY_WINDOW, None, int(window.total_seconds()),
                          case.last_inbound_at)
        counted = [c.due_at for c in starter.clocks[first:]
                   if counts_for_due(c.state, c.stopped_at)]
        if first_due or counted:
            dues.append(_Due(case.pk, first_due, min(counted, default=None)))
    starter.save()
    bulk_update_fields(dues, ["first_response_due", "sla_due_at"], model=Case)
