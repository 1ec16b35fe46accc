"""Routing and assignment as the desk applies them: rules from the database,
queued cases assigned when capacity frees, reassignment when an assignee goes
quiet, escalation up the chain. Each `do_*` writes its events."""

import functools
import json
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from socialdesk.accounts.models import Team, User
from socialdesk.audit.actions import do_record
from socialdesk.cases.models import Case
from socialdesk.notifications.actions import do_notify
from socialdesk.routing.assign import Assigner, Needs, alert_chain, escalation_chain
from socialdesk.routing.models import RoutingRule, fallback_team
from socialdesk.routing.rules import RuleSet, default_rules, parse_rules

# Cases that need a person: waiting in a team's queue while nobody holds them.
NEEDS_AGENT = {"decision__in": ("respond", "escalate"),
               "status__in": (Case.Status.NEW, Case.Status.OPEN)}


def active_rules() -> RuleSet:
    rows = [{"name": name, "when": when, "team": team} for name, when, team in
            RoutingRule.objects.filter(enabled=True).values_list("name", "when", "team")]
    fallback = fallback_team()
    if not rows:
        defaults = default_rules()
        return defaults if fallback == defaults.fallback else RuleSet(defaults.rules, fallback)
    return _parsed_rules(json.dumps({"fallback": fallback, "rules": rows}))


@functools.lru_cache(maxsize=8)
def _parsed_rules(document: str) -> RuleSet:
    # Keyed by the rules' text: the pipeline asks on every batch, and they
    # seldom change; compiling their conditions each time cost more than a
    # small batch's routing.
    return parse_rules(json.loads(document))


def needs_of(case: Case) -> Needs:
    return Needs(lang=case.lang, skills=frozenset(case.topics), channel=case.channel)


def reassign_deadline(team: Team, at: datetime) -> datetime | None:
    minutes = team.reassign_after_minutes
    return at + timedelta(minutes=minutes) if minutes else None


def hand_over(case, agent: User | None, now: datetime) -> None:
    """Give the case (a Case, or the pipeline's row for a new one) to `agent`, or
    none: the assignment time and the inactivity deadline follow. The caller saves."""
    case.assignee = agent
    case.assigned_at = now if agent else None
    case.reassign_at = reassign_deadline(case.team, now) if agent else None
    if agent and case.status == Case.Status.NEW:
        case.status = Case.Status.OPEN


ASSIGN_FIELDS = ["assignee", "assigned_at", "reassign_at", "status", "updated_at"]


def do_release_queues(team_ids: set[int] | None = None, now: datetime | None = None) -> int:
    """Assign queued cases to agents with free capacity: the most urgent, then the
    oldest, first. Run when a case closes, an agent comes online, and on each clock
    tick (working hours begin). Returns how many cases were assigned."""
    now = now or timezone.now()
    teams = Team.objects.filter(
        id__in=Case.objects.filter(assignee__isnull=True, **NEEDS_AGENT)
        .values("team_id").distinct())
    if team_ids is not None:
        teams = teams.filter(id__in=team_ids)
    assigner = Assigner(now)
    assigned = 0
    for team in teams.select_related("supervisor", "parent"):
        free = assigner.free(team)
        if not free:
            continue
        with transaction.atomic():
            # Claimed with a conditional update: a case someone assigned by hand
            # in the meantime is left alone.
            waiting = list(Case.objects.filter(team=team, assignee__isnull=True, **NEEDS_AGENT)
                           .order_by("priority", "opened_at", "id")[:free])
            for case in waiting:
                case.team = team
                pick = assigner.pick(team, needs_of(case))
                if pick.agent is None:
                    continue
                hand_over(case, pick.agent, now)
                claimed = Case.objects.filter(pk=case.pk, assignee__isnull=True).update(
                    assignee=pick.agent, assigned_at=now, reassign_at=case.reassign_at,
                    status=case.status, updated_at=now)
                if claimed:
                    assigned += 1
                    do_record("case.assigned", case=case, at=now, assignee=pick.agent.username,
                              by="queue", why=f"capacity freed: {pick.why}")
    assigner.save()
    return assigned


def do_reassign_inactive(now: datetime | None = None) -> int:
    """Cases whose assignee has not acted within the team's limit go to someone
    else in the team, or back to its queue when nobody else can take them."""
    now = now or timezone.now()
    quiet = list(Case.objects.filter(reassign_at__lte=now, assignee__isnull=False,
                                     status__in=Case.OPEN_STATUSES)
                 .select_related("team__supervisor", "team__parent", "assignee"))
    assigner = Assigner(now)
    for case in quiet:
        before = case.assignee
        minutes = case.team.reassign_after_minutes
        why = f"{before.username} did not act within {minutes} minutes"
        pick = assigner.pick(case.team, needs_of(case), exclude=frozenset({before.pk}))
        with transaction.atomic():
            hand_over(case, pick.agent, now)
            claimed = Case.objects.filter(pk=case.pk, assignee=before,
                                          reassign_at__lte=now).update(
                assignee=pick.agent, assigned_at=case.assigned_at,
                reassign_at=case.reassign_at, status=case.status, updated_at=now)
            if not claimed:
                continue  # the assignee acted, or someone reassigned it, meanwhile
            if pick.agent:
                do_record("case.reassigned", case=case, at=now, before=before.username,
                          assignee=pick.agent.username, why=f"{why}; {pick.why}")
                do_notify("case.reassigned", f"{case.ref} is yours: {why}.", [pick.agent],
                          case=case, at=now)
            else:
                do_record("case.unassigned", case=case, at=now, before=before.username,
                          why=f"{why}; {pick.why}")
                do_notify("case.unassigned",
                          f"{case.ref} went back to the {case.team.slug} queue: {why}, "
                          "and nobody else can take it now.",
                          escalation_chain(case.team)[:1], case=case, at=now)
    assigner.save()
    return len(quiet)


@transaction.atomic
def do_escalate(case: Case, why: str, actor: User | None = None,
                now: datetime | None = None) -> Team | None:
    """Move the case to the next team up the chain (if there is one), assign it
    there at once and tell that team's chain. Returns the new team."""
    now = now or timezone.now()
    team = case.team
    parent = team.parent if team else None
    if parent is not None:
        case.team = parent
        pick = Assigner(now).pick(parent, needs_of(case), force=True)
        hand_over(case, pick.agent, now)
        case.save(update_fields=["team", *ASSIGN_FIELDS])
        do_record("case.escalated", case=case, actor=actor, at=now, before=team.slug,
                  team=parent.slug, assignee=pick.agent.username if pick.agent else None,
                  why=why)
    else:
        do_record("case.escalated", case=case, actor=actor, at=now,
                  team=team.slug if team else None, why=f"{why}; top of the chain")
    chain = alert_chain(case.team)
    do_notify("case.escalated", f"{case.ref} escalated to {case.team.name}: {why}.", chain,
              case=case, at=now, data={"team": case.team.slug})
    return case.team if parent else None


@transaction.atomic
def do_set_availability(user: User, availability: str, actor: User | None = None) -> int:
    """Change an agent's status; coming online releases their teams' queues to them.
    Returns how many queued cases were assigned."""
    if availability not in User.Availability.values:
        raise ValueError(f"availability is one of {', '.join(User.Availability.values)}")
    before = user.availability
    if before == availability:
        return 0
    user.availability = availability
    user.save(update_fields=["availability"])
    do_record("agent.availability", actor=actor or user, agent=user.username, before=before,
              after=availability)
    if availability != User.Availability.ONLINE:
        return 0
    return do_release_queues(set(user.teams.values_list("id", flat=True)))


def mark_acted(case: Case) -> None:
    """The assignee did something: the inactivity timer stops. The caller saves."""
    case.reassign_at = None
