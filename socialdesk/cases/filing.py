"""Group processed posts into cases: the thread, the private follow-up, the person.

A post joins the case of its parent; a private message joins its author's
open case on the same channel; a parent that arrives after its replies joins
their case. Anything else opens a new case, routed and assigned.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from socialdesk.accounts.actions import do_ensure_teams
from socialdesk.accounts.models import Team, User
from socialdesk.audit.models import Event
from socialdesk.cases import sla
from socialdesk.cases.models import Case
from socialdesk.cases.steps import steps_for
from socialdesk.ingestion.models import Post
from socialdesk.ingestion.queries import PostRow
from socialdesk.lib.bulk import bulk_update_fields, insert_rows
from socialdesk.notifications.actions import do_notify_many
from socialdesk.routing.actions import hand_over, needs_of
from socialdesk.routing.assign import Assigner, alert_chain
from socialdesk.routing.rules import Route
from socialdesk.triage.engine import TriageResult

CASE_FIELDS = ["status", "priority", "decision", "category", "reply_mode", "channel", "lang",
               "topics", "contact", "team", "assignee", "subject", "routing_rule", "opened_at",
               "last_inbound_at", "first_response_due", "assigned_at", "reassign_at",
               "approval_by", "approval_reason", "steps", "created_at", "updated_at"]


@dataclass(slots=True)
class NewCase:
    """A case being opened by this batch: a plain row until it is inserted.

    Thousands of cases a second make Django model instances a real cost.
    """

    status: str
    priority: str
    decision: str
    category: str
    reply_mode: str
    channel: str
    contact_id: int
    team: Team
    subject: str
    routing_rule: str
    opened_at: datetime
    last_inbound_at: datetime
    created_at: datetime
    updated_at: datetime
    first_response_due: datetime | None
    lang: str = ""
    topics: list[str] = field(default_factory=list)
    visibility_private: bool = False
    approval_by: str = ""
    approval_reason: str = ""
    assignee: User | None = None
    assigned_at: datetime | None = None
    reassign_at: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    pk: int | None = None

    @property
    def assignee_id(self) -> int | None:
        return self.assignee.pk if self.assignee else None

    def row(self) -> tuple:
        return (self.status, self.priority, self.decision, self.category, self.reply_mode,
                self.channel, self.lang, self.topics, self.contact_id, self.team.pk,
                self.assignee_id, self.subject, self.routing_rule, self.opened_at,
                self.last_inbound_at, self.first_response_due, self.assigned_at,
                self.reassign_at, self.approval_by, self.approval_reason,
                steps_for(self.reply_mode), self.created_at, self.updated_at)


DECISION_RANK = {"escalate": 0, "respond": 1, "monitor": 2, "let_stand": 3, "hide": 4}


def _status_for(decision: str) -> str:
    # Hidden posts (spam) need no work: their case is closed at once, and kept.
    return Case.Status.CLOSED if decision == "hide" else Case.Status.NEW


def _case_lookup(posts: list[PostRow]) -> dict[str, dict]:
    parent_ids = {p.parent_id for p in posts if p.parent_id}
    by_parent = dict(Post.objects.filter(id__in=parent_ids, case__isnull=False)
                     .values_list("id", "case_id"))
    ids = [p.id for p in posts]
    by_child = {}
    for parent_id, case_id in (Post.objects.filter(parent_id__in=ids, case__isnull=False)
                               .order_by("created_at").values_list("parent_id", "case_id")):
        by_child.setdefault(parent_id, case_id)
    contacts = {p.contact_id for p in posts if p.visibility == Post.Visibility.PRIVATE}
    by_contact = {}
    # Status is checked and the rows sorted here, not in SQL: either one
    # tempts SQLite's planner to walk the status index over every open case
    # instead of looking up these few contacts.
    cases = (Case.objects.filter(contact_id__in=contacts)
             .values_list("opened_at", "contact_id", "channel", "id", "status"))
    for _, contact_id, channel, case_id, status in sorted(cases):
        if status in Case.OPEN_STATUSES:
            by_contact[(contact_id, channel)] = case_id  # the latest open case wins
    return {"parent": by_parent, "child": by_child, "contact": by_contact}


def do_file_posts(posts: list[PostRow], triages: dict[int, TriageResult],
                  routes: dict[int, Route], approvals: dict[int, tuple[str, str]] | None = None,
                  now: datetime | None = None) -> None:
    """Put every post of the batch (sorted by created_at) in a case.

    New cases are assigned by their team's strategy (crisis and safety cases
    regardless of capacity, their escalation chain told at once), or wait in
    the team's queue; their SLA clocks start. Sets `case_id` on the rows; the
    caller writes it with the rest of the post's processing state.
    """
    approvals = approvals or {}
    lookup = _case_lookup(posts)
    owners = _account_owners(routes.values())
    teams = do_ensure_teams({r.team for r in routes.values()}
                            | {team for team, _ in owners.values()})
    now = now or timezone.now()
    assigner = Assigner(now)
    cases: dict[int, Case | NewCase] = {}
    new_cases: list[NewCase] = []
    events: list[tuple[Case | NewCase, str, dict]] = []  # written in one statement at the end
    case_of_post: dict[int, NewCase | int] = {}
    openers: set[int] = set()
    matrix_minutes: dict[int, int | None] = {}
    urgent: list[NewCase] = []

    def existing_case_id(post: PostRow) -> int | None:
        if post.parent_id:
            parent = case_of_post.get(post.parent_id) or lookup["parent"].get(post.parent_id)
            if parent:
                return parent
        if post.id in lookup["child"]:
            return lookup["child"][post.id]
        if post.visibility == Post.Visibility.PRIVATE and post.direction == "inbound":
            return lookup["contact"].get((post.contact_id, post.channel))
        return None

    for post in posts:
        target = existing_case_id(post)
        triage = triages.get(post.id)
        if target is not None:
            case_of_post[post.id] = target
            continue
        if triage is None:
            # An outbound post with no known parent: kept, and filed when its
            # parent arrives.
            continue
        route = routes[post.id]
        owner = owners.get(route.owner)
        team = teams[owner[0]] if owner else teams[route.team]
        decision = triage.outcome.decision
        due = triage.outcome.first_response_minutes
        by, reason = approvals.get(post.id, ("", ""))
        case = NewCase(
            status=_status_for(decision), priority=triage.outcome.priority, decision=decision,
            category=triage.category, reply_mode=triage.outcome.reply_mode,
            channel=post.channel, contact_id=post.contact_id, team=team,
            subject=post.text[:200], routing_rule=route.rule, opened_at=post.created_at,
            last_inbound_at=post.created_at, created_at=now, updated_at=now,
            first_response_due=post.created_at + timedelta(minutes=due) if due else None,
            lang=triage.lang, topics=sorted({t["topic"] for t in triage.topics}),
            visibility_private=post.visibility == Post.Visibility.PRIVATE,
            approval_by=by, approval_reason=reason[:200],
        )
        if decision in ("respond", "escalate"):
            _assign_new(case, triage, owner, assigner, now, events, urgent)
        new_cases.append(case)
        matrix_minutes[id(case)] = due
        case_of_post[post.id] = case
        openers.add(post.id)
        # A private message that follows will continue this case.
        lookup["contact"][(post.contact_id, post.channel)] = case

    ids = insert_rows(Case, CASE_FIELDS, [case.row() for case in new_cases])
    opened = []
    for pk, case in zip(ids, new_cases, strict=True):
        case.pk = pk
        cases[pk] = case
        opened.append((case, "case.opened", {
            "team": case.team.slug, "rule": case.routing_rule, "priority": case.priority,
            "decision": case.decision}))
    assigner.save()
    sla.do_start_clocks(new_cases, {c.pk: matrix_minutes[id(c)] for c in new_cases}, now)

    joined_ids = {c for c in case_of_post.values() if isinstance(c, int)}
    for case in Case.objects.filter(id__in=joined_ids):
        cases[case.pk] = case
    _update_joined_cases(posts, case_of_post, openers, cases, triages, events, now)

    for post in posts:
        target = case_of_post.get(post.id)
        post.case_id = target if isinstance(target, int) or target is None else target.pk
    events += _alert_chains(urgent, now)
    insert_rows(Event, ["at", "verb", "case", "data"],
                [(now, verb, case.pk, data) for case, verb, data in opened + events],
                returning=False)


def _account_owners(routes) -> dict[str, tuple[str, User]]:
    """Username → (their team's slug, the user) for the owners routes name."""
    names = {r.owner for r in routes if r.owner}
    if not names:
        return {}
    owners = {}
    for user in (User.objects.filter(username__in=names, is_active=True)
                 .select_related("working_hours").prefetch_related("teams")):
        teams = sorted(user.teams.all(), key=lambda t: t.slug)
        if teams:
            owners[user.username] = (teams[0].slug, user)
    return owners


def _is_urgent(triage: TriageResult) -> bool:
    return (triage.outcome.decision == "escalate" or triage.category == "crisis"
            or "safety" in triage.cues)


def _assign_new(case: NewCase, triage: TriageResult, owner: tuple[str, User] | None,
                assigner: Assigner, now: datetime, events: list, urgent: list) -> None:
    if _is_urgent(triage):
        urgent.append(case)
    pick = None
    if owner is not None:
        user = owner[1]
        if user.availability == User.Availability.ONLINE and user in assigner.members(case.team):
            assigner.bump(user)
            case.assignee = user
            why = f"account owner of this contact ({user.username})"
        else:
            pick = assigner.pick(case.team, needs_of(case), force=_is_urgent(triage))
            why = f"account owner {user.username} is not available; {pick.why}"
    else:
        pick = assigner.pick(case.team, needs_of(case), force=_is_urgent(triage))
        why = pick.why
    if pick is not None:
        case.assignee = pick.agent
    if case.assignee is None:
        events.append((case, "case.queued", {"team": case.team.slug, "why": why}))
        return
    hand_over(case, case.assignee, now)
    events.append((case, "case.assigned", {"assignee": case.assignee.username,
                                           "by": "pipeline", "why": why}))


def _alert_chains(urgent: list[NewCase], now: datetime) -> list[tuple]:
    """Tell each crisis or safety case's escalation chain at once, in one write for
    the batch; returns the audit events."""
    chains: dict[int, list[User]] = {}
    notices, events = [], []
    for case in urgent:
        if case.team.pk not in chains:
            chains[case.team.pk] = alert_chain(case.team)
        chain = chains[case.team.pk]
        who = case.assignee.username if case.assignee else "nobody yet"
        notices.append((
            "case.escalated",
            f"C-{case.pk:06d} ({case.category}, {case.priority}) opened for {case.team.name}, "
            f"assigned to {who}: {case.subject[:120]}",
            chain, Case(pk=case.pk), {"team": case.team.slug, "priority": case.priority}))
        events.append((case, "case.escalated", {
            "team": case.team.slug, "why": f"{case.category} case: the chain is told at once",
            "notified": [u.username for u in chain]}))
    do_notify_many(notices, now)
    return events


def _update_joined_cases(posts, case_of_post, openers, cases, triages, events, now) -> None:
    changed = {}
    answered: dict[int, datetime] = {}  # case → our earliest reply in this batch
    inbound: list[tuple[int, datetime, bool]] = []
    moved: list[tuple[Case | NewCase, str, str, datetime]] = []  # status changes
    for post in posts:
        target = case_of_post.get(post.id)
        if target is None or post.id in openers:
            continue
        case = cases[target if isinstance(target, int) else target.pk]
        if post.direction == Post.Direction.OUTBOUND:
            if post.is_automated:
                continue
            if post.created_at >= case.opened_at and (
                case.first_response_at is None or post.created_at < case.first_response_at
            ):
                case.first_response_at = post.created_at
                changed[case.pk] = case
            if case.status == Case.Status.NEW:
                case.status = Case.Status.OPEN  # the brand has answered: work has started
                changed[case.pk] = case
            answered[case.pk] = min(answered.get(case.pk, post.created_at), post.created_at)
            continue
        triage = triages.get(post.id)
        if post.created_at < case.opened_at:
            case.opened_at = post.created_at  # a late parent: the case began earlier
        case.last_inbound_at = max(case.last_inbound_at, post.created_at)
        inbound.append((case.pk, post.created_at, post.visibility == Post.Visibility.PRIVATE))
        if triage:
            if triage.outcome.priority < case.priority:
                case.priority = triage.outcome.priority
            if DECISION_RANK[triage.outcome.decision] < DECISION_RANK.get(case.decision, 9):
                case.decision = triage.outcome.decision
        if case.status in (Case.Status.RESOLVED, Case.Status.CLOSED) and triage and \
                triage.outcome.decision in ("respond", "escalate"):
            events.append((case, "case.reopened",
                           {"from": case.status, "post": post.external_id}))
            moved.append((case, case.status, Case.Status.OPEN, post.created_at))
            case.status = Case.Status.OPEN
            case.resolved_at = None
        elif case.status == Case.Status.PENDING:
            moved.append((case, case.status, Case.Status.OPEN, post.created_at))
            case.status = Case.Status.OPEN
        changed[case.pk] = case
    if changed:
        for case in changed.values():
            case.updated_at = now  # the inbox's live poll reports the case as changed
        bulk_update_fields(list(changed.values()),
                           ["opened_at", "last_inbound_at", "priority", "decision", "status",
                            "resolved_at", "first_response_at", "updated_at"], model=Case)
    # The clocks follow: our replies stop response targets, a customer back from
    # "pending" resumes them, a new message starts the next-response target.
    sla.do_note_responses(answered)
    for case, before, after, at in moved:
        sla.do_note_status(case, before, after, at)
    if inbound:
        from socialdesk.cases.followups import do_meet_follow_ups

        sla.do_note_inbound(inbound, now)
        do_meet_follow_ups(sorted({case_id for case_id, _, _ in inbound}), now)
