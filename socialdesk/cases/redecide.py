"""A case decided again after a person corrected the triage of its opening post.

The pipeline decided the case from that post: team (routing), assignee, approval
gate, reply mode and its steps, SLA targets. A corrected category or sentiment
gives the policy new facts (triage.feedback decides the post again); here the
case follows the new decision the way filing would have made it:

- routing runs again on the corrected facts; a case whose opening post needs an
  answer and belongs to another team moves there, with the rule's reason, and is handed to
  someone in that team (its assignee keeps it if they are a member);
- the approval gate is the one the policy names for the new facts;
- the steps are the new reply mode's; what was already done (a public reply,
  a private message) counts for the new steps it fulfils;
- the first-response and resolution targets are the SLA policy's for the new
  priority and team (or the response matrix's), measured from when they started,
  so the case shows one due time, the right one; a case that needs a response
  only now gets its clocks.

Everything that changed is returned as [before, after] pairs, for the one audit
event of the correction.
"""

from datetime import datetime

from socialdesk.accounts.actions import do_ensure_teams
from socialdesk.cases.filing import account_owners, is_urgent
from socialdesk.cases.models import Case, SlaClock
from socialdesk.cases.sla.common import (
    DEFAULT_WARN_PERCENT,
    WORK_DECISIONS,
    Calendars,
    Kind,
    State,
    enabled_policies,
    policy_for,
    refresh_due,
)
from socialdesk.cases.sla.starting import do_start_clocks
from socialdesk.cases.steps import DONE_BY, completed_by, steps_for, steps_of
from socialdesk.routing.actions import active_rules, hand_over, needs_of
from socialdesk.routing.assign import Assigner
from socialdesk.routing.rules import route
from socialdesk.triage.policy import Policy, approval_needed

RETARGETED = (Kind.FIRST_RESPONSE, Kind.RESOLUTION)


def redecide_case(case: Case, facts: dict, policy: Policy, first_response_minutes: int | None,
                  now: datetime) -> dict:
    """Bring an open case in line with its opening post's corrected facts; the case
    is saved. Returns what changed."""
    changes: dict[str, list] = {}
    if facts.get("decision") in WORK_DECISIONS:
        # Who should answer the opening post; one nobody needs to answer now
        # (spam to hide, a post to monitor) leaves the case with whoever has it.
        _reroute(case, facts, now, changes)
    by, reason = approval_needed(policy, facts)
    if (case.approval_by, case.approval_reason) != (by, reason[:200]):
        changes["approval"] = [case.approval_by or None, by or None]
        case.approval_by, case.approval_reason = by, reason[:200]
    _restep(case, changes)
    case.save()
    _retarget(case, first_response_minutes, now, changes)
    return changes


def _reroute(case: Case, facts: dict, now: datetime, changes: dict) -> None:
    chosen = route(active_rules(), facts)
    # Where a rule routes to the contact's account owner: their team, as filing does.
    owner = account_owners([chosen]).get(chosen.owner)
    slug = owner[0] if owner else chosen.team
    team = do_ensure_teams({slug})[slug]
    if case.team_id == team.pk:
        return
    before = case.team.slug if case.team else None
    changes["team"] = [before, team.slug]
    changes["routing"] = chosen.reason
    case.team, case.routing_rule = team, chosen.rule
    if case.assignee is not None and case.assignee.teams.filter(pk=team.pk).exists():
        return
    urgent = is_urgent(case.decision, case.category, facts.get("cues", ()))
    pick = Assigner(now).pick(team, needs_of(case), force=urgent)
    changes["assignee"] = [case.assignee.username if case.assignee else None,
                           pick.agent.username if pick.agent else None]
    hand_over(case, pick.agent, now)


def _restep(case: Case, changes: dict) -> None:
    """The reply mode's steps; done ones carry over to the new steps they fulfil."""
    old = steps_of(case)
    new = steps_for(case.reply_mode)
    if [s["step"] for s in old] == [s["step"] for s in new]:
        return
    for step in new:
        done = next((s for s in old
                     if s["done_at"] and _fulfils(case.channel, s["step"], step["step"])), None)
        if done is not None:
            step["done_at"], step["via"] = done["done_at"], done["via"]
    changes["steps"] = [[s["step"] for s in old], [s["step"] for s in new]]
    case.steps = new


def _fulfils(channel: str, done: str, wanted: str) -> bool:
    """Whether the contact that did one step also does another on this channel (as
    cases.steps.completed_by says: on e-mail, one message does them all)."""
    return any(done in DONE_BY[kind] and wanted in completed_by(channel, kind)
               for kind in DONE_BY)


def _retarget(case: Case, matrix_minutes: int | None, now: datetime, changes: dict) -> None:
    """Running first-response and resolution targets as the new priority and team
    have them; clocks for a case that needs a response only now."""
    if case.decision not in WORK_DECISIONS:
        return
    clocks = list(SlaClock.objects.filter(case=case, kind__in=RETARGETED, stopped_at=None))
    if not SlaClock.objects.filter(case=case).exists():
        do_start_clocks([case], {case.pk: matrix_minutes}, now)
        due = SlaClock.objects.filter(case=case, kind=Kind.FIRST_RESPONSE).first()
        changes["first_response_due"] = [None, due.due_at.isoformat() if due else None]
        return
    policy = policy_for(case, enabled_policies())
    calendar = Calendars().of(case.team)
    for clock in clocks:
        if clock.state == State.PAUSED:
            continue  # pending on the customer: the target is set again on resuming
        if clock.kind == Kind.FIRST_RESPONSE:
            minutes = (policy and policy.first_response_minutes) or matrix_minutes
        else:
            minutes = policy and policy.resolution_minutes
        if not minutes or (clock.target_seconds == minutes * 60
                           and clock.policy == (policy.name if policy else "")):
            continue
        before = clock.due_at
        seconds = minutes * 60
        clock.policy, clock.target_seconds = (policy.name if policy else ""), seconds
        clock.due_at = calendar.add(clock.started_at, seconds)
        clock.warn_at = calendar.add(clock.started_at,
                                     seconds * (policy.warn_at_percent if policy
                                                else DEFAULT_WARN_PERCENT) / 100)
        if clock.warn_at > now:
            clock.warned_at = None  # warned of the old target: warned of this one in time
        if clock.due_at > now and clock.state == State.MISSED:
            clock.state, clock.breached_at = State.ACTIVE, None
        clock.save(update_fields=["policy", "target_seconds", "due_at", "warn_at", "warned_at",
                                  "state", "breached_at"])
        changes[f"{clock.kind}_due"] = [before.isoformat(), clock.due_at.isoformat()]
        if clock.kind == Kind.FIRST_RESPONSE:
            Case.objects.filter(pk=case.pk).update(first_response_due=clock.due_at)
            case.first_response_due = clock.due_at
    refresh_due([case.pk])
