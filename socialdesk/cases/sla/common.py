"""What the SLA modules share: the clock kinds and states, policies, calendars."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from socialdesk.accounts.models import BusinessCalendar, Team
from socialdesk.audit.models import Event
from socialdesk.cases.models import Case, SlaClock, SlaPolicy
from socialdesk.lib.bulk import bulk_update_fields, insert_rows
from socialdesk.lib.calendar import Calendar

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


class Calendars:
    """Business calendars by team, each built once per call: building one parses its spec."""

    def __init__(self):
        self._built: dict[int | None, Calendar] = {None: Calendar.always()}

    def of(self, team: Team | None) -> Calendar:
        key = team.calendar_id if team is not None else None
        if key not in self._built:
            self._built[key] = BusinessCalendar.objects.get(pk=key).calendar()
        return self._built[key]


def enabled_policies() -> list[SlaPolicy]:
    return list(SlaPolicy.objects.filter(enabled=True).order_by("position", "id"))


def stop_response(clock, at: datetime) -> None:
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


def record_event(case: Case, verb: str, at: datetime, **data) -> None:
    insert_rows(Event, EVENT_FIELDS, [(at, verb, case.pk, data)], returning=False)


def chunks(ids: list[int]):
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def refresh_due(case_ids) -> None:
    """Write `Case.sla_due_at` again for these cases, after their clocks changed:
    the earliest due time of the clocks that still count (`counts_for_due`).

    Read by case id and reduced here: a correlated UPDATE leaves the choice of
    index to the planner, and SQLite's picks the clocks' state index and reads
    every running clock for each case."""
    ids = sorted(set(case_ids))
    rows = []
    for chunk in chunks(ids):
        due: dict[int, datetime | None] = dict.fromkeys(chunk)
        for case_id, at, state, stopped_at in SlaClock.objects.filter(
                case_id__in=chunk).values_list("case_id", "due_at", "state", "stopped_at"):
            if counts_for_due(state, stopped_at) and (due[case_id] is None
                                                      or at < due[case_id]):
                due[case_id] = at
        rows += [_CaseDue(pk, at) for pk, at in due.items()]
    bulk_update_fields(rows, ["sla_due_at"], model=Case)


@dataclass(slots=True)
class _CaseDue:
    pk: int
    sla_due_at: datetime | None


# Clocks that still count towards a case's due time: running ones, and response
# targets already missed but not yet answered (the inbox shows them overdue).
COUNTING = (State.ACTIVE, State.MISSED)


def counts_for_due(state: str, stopped_at: datetime | None) -> bool:
    return stopped_at is None and state in COUNTING
