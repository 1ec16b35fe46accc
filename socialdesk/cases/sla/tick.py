"""The clock's tick: warn on clocks that reach their warning time, act on those that run out."""

import logging
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction

from socialdesk.accounts.models import Team, User
from socialdesk.audit.models import Event
from socialdesk.cases.models import Case, SlaClock, SlaPolicy
from socialdesk.cases.sla.common import (
    CASE_FIELDS,
    DEFAULT_BREACH_ACTIONS,
    EVENT_FIELDS,
    Kind,
    State,
    chunks,
    refresh_due,
)
from socialdesk.lib.bulk import bulk_update_fields, insert_rows
from socialdesk.notifications.actions import do_notify_many
from socialdesk.routing.actions import ASSIGN_FIELDS, do_escalate, hand_over, needs_of
from socialdesk.routing.assign import Assigner, alert_chain, escalation_chain

logger = logging.getLogger(__name__)


@dataclass
class ClockReport:
    warned: int = 0
    breached: int = 0
    windows_closing: int = 0
    windows_closed: int = 0
    actions: dict[str, int] = field(default_factory=dict)


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
        refresh_due({clocks[pk].case_id for pk in breached})
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
        for chunk in chunks(ids):
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
            for chunk in chunks(wanted):
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
        """A missed target goes to the first person up the chain, not the whole chain."""
        if self._admins is None:
            self._admins = list(User.objects.filter(role=User.Role.ADMIN, is_active=True))
        return alert_chain(team, levels=1, admins=self._admins)

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
