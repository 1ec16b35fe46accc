"""Group processed posts into cases: the thread, the private follow-up, the person.

The rules, as a clean run applies them (every post in one import, in created_at
order):

1. Threads. A post joins the case of its parent (the stored post its
   `in_reply_to` names, on the same channel). An inbound post whose parent is
   unknown, or is one of our posts in no case, heads a thread; so does every
   customer's reply to a brand post that is in no case (an announcement). An
   outbound post with no inbound post above it is in no case.
2. Private messages. An inbound private message that heads a thread joins the
   latest conversation of its author (contact) on that channel begun at or
   before it, i.e. the case with the latest `opened_at` not after the message,
   if that case is open; if there is none, it opens one, which the next
   messages join in turn.
3. Anything else that heads a thread opens a new case, routed and assigned.

The same rules hold whatever the order posts are stored and processed in:
batches of any size and order, a run that stops between storing and processing
(the backlog is processed later), two imports at once. A post's processing
links it to its parent if that is stored by then; a parent's processing takes
in its replies processed before it (however many, at any depth, in a case of
their own or in none), and a person's conversation that turns out to begin
earlier takes in the private messages that follow it. Posts filed before are
moved where the rules put them now (cases.grouping); a case left with no post
is closed, recorded as merged into the case its posts went to, which gets its
replies, notes and follow-ups. Filings on one channel take turns
(ingestion.actions.lock_filing), so that none misses another's posts.

Guaranteed the same as a clean run, once every stored post is processed:

- each post's parent (ingestion: `parent` from `in_reply_to`);
- which posts share a case, and which are in none;
- hence every brand reply whose thread is in a case is in that case;
- a case's `opened_at`, `contact` and `subject` come from its earliest inbound
  post (the private-message rule reads the first two).

Not guaranteed, by design:

- what the case's opening post decided, as the first of its posts to be
  processed: team, routing rule, assignee, category, reply mode, language,
  topics, approval, SLA targets (routing and assignment are not redone when an
  earlier post arrives), and the numbering of cases;
- `priority` and `decision` gather what the case's posts brought as they were
  processed, and what the cases merged into it had: a post moved in later (a
  private message found to belong to a conversation that arrived after it)
  brings none; a post moved out takes nothing away, nor lowers
  `last_inbound_at`;
- which case is open is a matter of time, not of order: a private message
  that comes while its conversation is resolved or closed (by an agent, or as
  hidden spam) opens a new case, and one filed in a case stays in it when the
  case closes or reopens later; a contact merge moves nothing filed before;
- posts with the same created_at are taken in the order they were stored;
- the rules read created_at: with replies older than their parents (clocks
  that disagree) threads still come together the same, but what a case takes
  from its first post, and which conversation a private message joins, may
  depend on the order.

With the posts in order none of this costs more than a few reads a batch
(cases.grouping).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from socialdesk.accounts.actions import do_ensure_teams
from socialdesk.accounts.models import Team, User
from socialdesk.audit.models import Event
from socialdesk.cases import sla
from socialdesk.cases.grouping import Group, Plan, plan_cases
from socialdesk.cases.models import Case, FollowUp, Note, Reply
from socialdesk.cases.steps import do_mark_brand_posts, steps_for
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


def do_file_posts(posts: list[PostRow], triages: dict[int, TriageResult],
                  routes: dict[int, Route], approvals: dict[int, tuple[str, str]] | None = None,
                  now: datetime | None = None) -> None:
    """Put every post of the batch (sorted by created_at) in its case, and move the
    posts filed before that the batch shows to belong elsewhere (see the module
    docstring).

    New cases are assigned by their team's strategy (crisis and safety cases
    regardless of capacity, their escalation chain told at once), or wait in
    the team's queue; their SLA clocks start. Sets `case_id` (and `parent_id`,
    when it was linked here) on the batch's rows; the caller writes them with the
    rest of the post's processing state. Posts outside the batch are written here.
    """
    approvals = approvals or {}
    now = now or timezone.now()
    plan = plan_cases(posts, triages)
    batch = {p.id for p in posts}
    opening = sorted((g for g in plan.groups if g.opener is not None),
                     key=lambda g: (g.opener.created_at, g.opener.id))
    owners = account_owners(routes[g.opener.id] for g in opening)
    teams = do_ensure_teams({routes[g.opener.id].team for g in opening}
                            | {team for team, _ in owners.values()})
    assigner = Assigner(now)
    cases: dict[int, Case | NewCase] = {}
    new_cases: list[NewCase] = []
    events: list[tuple[Case | NewCase, str, dict]] = []  # written in one statement at the end
    matrix_minutes: dict[int, int | None] = {}
    urgent: list[NewCase] = []
    case_of_group: dict[int, NewCase | int] = {}

    for group in opening:
        post = group.opener
        triage, route = triages[post.id], routes[post.id]
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
        case_of_group[id(group)] = case
    splits = _split_cases([g for g in plan.groups if g.split_from], now)
    for group, case in splits:
        new_cases.append(case)
        matrix_minutes[id(case)] = None
        case_of_group[id(group)] = case

    ids = insert_rows(Case, CASE_FIELDS, [case.row() for case in new_cases])
    opened = []
    split_from = {id(case): group.split_from for group, case in splits}
    for pk, case in zip(ids, new_cases, strict=True):
        case.pk = pk
        cases[pk] = case
        data = {"team": case.team.slug, "rule": case.routing_rule, "priority": case.priority,
                "decision": case.decision}
        if id(case) in split_from:
            data["split_from"] = _ref(split_from[id(case)])
        opened.append((case, "case.opened", data))
    assigner.save()
    sla.do_start_clocks(new_cases, {c.pk: matrix_minutes[id(c)] for c in new_cases}, now)

    for group in plan.groups:
        if group.case_id is not None:
            case_of_group[id(group)] = group.case_id
    merged = {c: group for group in plan.groups for c in group.merged}
    existing = {c for c in case_of_group.values() if isinstance(c, int)} | set(merged)
    for case in Case.objects.filter(id__in=existing):
        cases[case.pk] = case

    # Where each post goes: the batch's posts, and the others that move.
    case_of_post: dict[int, NewCase | int] = {}
    openers = {g.opener.id for g in opening}
    joining, moved = [], []
    for post_id, group in plan.target.items():
        target = case_of_group.get(id(group))
        if target is None:
            continue
        pk = target if isinstance(target, int) else target.pk
        post = plan.posts[post_id]
        if post_id not in batch and post.case_id == pk:
            continue
        if post_id not in batch:
            moved.append(post)
        if post.case_id != pk or post.processed_at is None:
            case_of_post[post_id] = target
            joining.append(post)
    joining.sort(key=lambda p: (p.created_at, p.id))
    _update_joined_cases(joining, case_of_post, openers, cases, triages, events, now,
                         refiled={p.id for p in moved})

    for post in posts:
        target = case_of_post.get(post.id)
        if target is not None:
            post.case_id = target if isinstance(target, int) else target.pk
    for post in moved:
        target = case_of_post[post.id]
        post.case_id = target if isinstance(target, int) else target.pk
    moved_ids = {p.id for p in moved}
    relinked = [plan.posts[i] for i in plan.relinked if i not in moved_ids]
    bulk_update_fields(moved + relinked, ["parent", "case"], model=Post)
    if merged:
        events += _close_merged(merged, case_of_group, cases, plan, now)
    events += _alert_chains(urgent, now)
    insert_rows(Event, ["at", "verb", "case", "data"],
                [(now, verb, case.pk, data) for case, verb, data in opened + events],
                returning=False)


def _ref(case_id: int) -> str:
    return f"C-{case_id:06d}"


def _split_cases(groups: list[Group], now: datetime) -> list[tuple[Group, NewCase]]:
    """New cases for groups that no post of the batch can open: a private message
    whose conversation began with someone else's post that turned out to be a
    reply. Like the case its posts were in (team, assignee, triage), from its own
    earliest post."""
    if not groups:
        return []
    sources = Case.objects.select_related("team", "assignee").in_bulk(
        {g.split_from for g in groups})
    made = []
    for group in groups:
        source, first = sources.get(group.split_from), group.earliest()
        if source is None or source.team is None or first is None:
            continue
        last = max(p.created_at for p in group.members if p.direction == Post.Direction.INBOUND)
        made.append((group, NewCase(
            status=source.status, priority=source.priority, decision=source.decision,
            category=source.category, reply_mode=source.reply_mode, channel=source.channel,
            contact_id=first.contact_id, team=source.team, subject=first.text[:200],
            routing_rule=source.routing_rule, opened_at=first.created_at, last_inbound_at=last,
            created_at=now, updated_at=now, first_response_due=None, lang=source.lang,
            topics=list(source.topics), visibility_private=first.visibility == "private",
            approval_by=source.approval_by, approval_reason=source.approval_reason,
            assignee=source.assignee, assigned_at=source.assigned_at)))
    return made


def _close_merged(merged: dict[int, Group], case_of_group, cases, plan: Plan,
                  now: datetime) -> list[tuple]:
    """Close the cases whose posts all moved to another case, and hand that case
    their replies, notes and follow-ups; returns the audit events."""
    looked_at = list(plan.posts)
    kept = set(Post.objects.filter(case_id__in=list(merged)).exclude(id__in=looked_at)
               .values_list("case_id", flat=True).distinct())
    kept |= {p.case_id for p in plan.posts.values()}  # as filed now
    events, changed, closed = [], [], []
    for case_id, group in sorted(merged.items()):
        target = case_of_group[id(group)]
        into = target if isinstance(target, int) else target.pk
        loser = cases.get(case_id)
        if case_id in kept or loser is None or into == case_id:
            continue
        winner = cases[into]
        if loser.priority < winner.priority:
            winner.priority = loser.priority
        if DECISION_RANK.get(loser.decision, 9) < DECISION_RANK.get(winner.decision, 9):
            winner.decision = loser.decision
        winner.updated_at = now
        changed.append(winner)
        for model in (Reply, Note, FollowUp):
            model.objects.filter(case_id=case_id).update(case_id=into)
        before = loser.status
        loser.status, loser.updated_at = Case.Status.CLOSED, now
        changed.append(loser)
        closed.append((loser, before, Case.Status.CLOSED, now))
        events.append((loser, "case.merged", {"into": _ref(into), "from": before}))
        events.append((winner, "case.absorbed", {"from": _ref(case_id)}))
    sla.do_note_statuses(closed)
    if changed:
        bulk_update_fields(list({id(c): c for c in changed}.values()),
                           ["priority", "decision", "status", "updated_at"], model=Case)
    return events


def account_owners(routes) -> dict[str, tuple[str, User]]:
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


def is_urgent(decision: str, category: str, cues) -> bool:
    """A case handed to someone at once, past capacity, with its chain told."""
    return decision == "escalate" or category == "crisis" or "safety" in cues


def _is_urgent(triage: TriageResult) -> bool:
    return is_urgent(triage.outcome.decision, triage.category, triage.cues)


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


def _update_joined_cases(posts, case_of_post, openers, cases, triages, events, now,
                         refiled: frozenset[int] | set[int] = frozenset()) -> None:
    """The cases posts joined: when they began, were last written to, answered;
    their priority, decision and status. A post `refiled` from another case (filed
    before) is no news from the customer: it starts no clock and resumes nothing."""
    changed = {}
    answered: dict[int, datetime] = {}  # case → our earliest reply in this batch
    inbound: list[tuple[int, datetime, bool]] = []
    moved: list[tuple[Case | NewCase, str, str, datetime]] = []  # status changes
    brand_posts: list[tuple[int, str, str, datetime]] = []  # each completes the case's steps
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
            brand_posts.append((case.pk, post.channel, post.visibility, post.created_at))
            continue
        triage = triages.get(post.id)
        if post.created_at < case.opened_at:
            # A late parent (or an earlier post moved here): the case began
            # earlier, with this post and its author.
            case.opened_at, case.contact_id = post.created_at, post.contact_id
            case.subject = post.text[:200]
        case.last_inbound_at = max(case.last_inbound_at, post.created_at)
        changed[case.pk] = case
        if post.id in refiled:
            continue
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
                           ["opened_at", "contact", "subject", "last_inbound_at", "priority",
                            "decision", "status", "resolved_at", "first_response_at",
                            "updated_at"], model=Case)
    # The clocks follow: our replies stop response targets, a customer back from
    # "pending" resumes them, a new message starts the next-response target.
    sla.do_note_responses(answered)
    sla.do_note_statuses(moved)
    if brand_posts:
        events += do_mark_brand_posts(brand_posts)
    if inbound:
        from socialdesk.cases.followups import do_meet_follow_ups

        sla.do_note_inbound(inbound, now)
        do_meet_follow_ups(sorted({case_id for case_id, _, _ in inbound}), now)
