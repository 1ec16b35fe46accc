"""What the SLA modules share: the clock kinds and states, policies, calendars."""

from datetime import datetime, timedelta

from django.db import connection

from socialdesk.accounts.models import BusinessCalendar, Team
from socialdesk.audit.models import Event
from socialdesk.cases.models import Case, SlaClock, SlaPolicy
from socialdesk.lib.bulk import insert_rows
from socialdesk.lib.calendar import Calendar

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


# The earliest due time of a case's clocks that still count: running ones, and
# response targets already missed but not yet answered (the inbox shows them overdue).
DUE_SQL = (
    "UPDATE {case} SET sla_due_at = (SELECT MIN(c.due_at) FROM {clock} c "
    "WHERE c.case_id = {case}.id AND c.stopped_at IS NULL AND c.state IN ('active', 'missed')) "
    "WHERE id IN ({ids})"
)


def refresh_due(case_ids) -> None:
    """Write `Case.sla_due_at` again for these cases, after their clocks changed."""
    ids = sorted(set(case_ids))
    table = connection.ops.quote_name
    with connection.cursor() as cursor:
        for chunk in chunks(ids):
            cursor.execute(DUE_SQL.format(case=table(Case._meta.db_table),
                                          clock=table(SlaClock._meta.db_table),
                                          ids=", ".join(["%s"] * len(chunk))), chunk)


def counts_for_due(clock) -> bool:
    return clock.stopped_at is None and clock.state in (State.ACTIVE, State.MISSED)
