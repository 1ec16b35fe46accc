from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.http import Http404

from socialdesk.accounts.models import Team, User
from socialdesk.cases.models import Case, CasePresence, FollowUp, Note, Reply
from socialdesk.ingestion.models import Post
from socialdesk.routing.assign import escalation_chain

SUPERVISOR_APPROVAL = "supervisor"
# How long a page that stopped polling still counts as someone on the case.
PRESENCE_FRESH = timedelta(seconds=90)

def _reach(user: User) -> tuple[set[int], set[int], set[str]]:
    """The ids of the teams whose cases a (non-admin) user sees, the ids of those
    they lead (the part of the chart they hand cases around in), and the slugs of
    the teams whose approvals they give.

    Everyone sees their own teams. A team's supervisor (Team.supervisor, whatever
    their role) also sees every team below it, and so does a user with the
    supervisor role for the teams they belong to: the escalation chain, which
    approves and hears of a team's cases, is made of exactly these people.
    Approvals by a named team go to its members and its supervisor.
    """
    member_of = set(user.teams.values_list("id", flat=True))
    children: dict[int | None, list[int]] = {}
    heads, slugs = set(), set()
    for team_id, slug, parent_id, supervisor_id in Team.objects.values_list(
            "id", "slug", "parent_id", "supervisor_id"):
        children.setdefault(parent_id, []).append(team_id)
        if supervisor_id == user.pk:
            heads.add(team_id)
        if supervisor_id == user.pk or team_id in member_of:
            slugs.add(slug)
    if user.role == User.Role.SUPERVISOR:
        heads |= member_of
    below, stack = set(heads), list(heads)
    while stack:  # down the tree; `below` also stops a parent loop made outside the admin
        for child in children.get(stack.pop(), ()):
            if child not in below:
                below.add(child)
                stack.append(child)
    return member_of | below, below, slugs


def teams_led_by(user: User) -> set[int]:
    """Ids of the teams a (non-admin) user leads: those they supervise, or belong to
    with the supervisor role, and every team below those."""
    return _reach(user)[1]


def teams_visible_to(user: User) -> QuerySet[Team]:
    """Admins: every team; supervisors: the teams they belong to or supervise and the
    teams below those; agents: their own teams (and, named a team's supervisor, that
    team and the teams below it)."""
    if is_admin(user):
        return Team.objects.all()
    return Team.objects.filter(pk__in=_reach(user)[0])


def cases_visible_to(user: User) -> QuerySet[Case]:
    """The one rule for who sees a case: its team is in teams_visible_to(user), or it
    is assigned to them, or their team must approve its replies (legal, PR: they
    need the thread to judge them). Admins see every case."""
    cases = Case.objects.all()
    if is_admin(user):
        return cases
    team_ids, _, approving = _reach(user)
    return cases.filter(Q(team_id__in=team_ids) | Q(assignee=user)
                        | Q(approval_by__in=approving))


def access_case(user: User, case_id: int) -> Case:
    """The case, if this user may see it; 404 otherwise (no hint that it exists)."""
    try:
        return cases_visible_to(user).select_related("team", "assignee", "contact").get(pk=case_id)
    except Case.DoesNotExist:
        raise Http404("No such case") from None


# --------------------------------------------------------------------------
# The inbox: queues (views), filters, search, counts and live changes
# --------------------------------------------------------------------------

def thread(case: Case) -> list[Post]:
    posts = case.posts.select_related("author", "triage", "sent_by")
    return list(posts.order_by("created_at", "id"))


def approvers(case: Case, by: str | None = None) -> list[User]:
    """Who approves the case's replies (admins aside): its team's escalation chain
    for "supervisor", else the members and supervisor of the named team. `by`: a
    reply's own approval_by, which stays as it was when the reply was stored."""
    by = case.approval_by if by is None else by
    if not by:
        return []
    if by == SUPERVISOR_APPROVAL:
        return escalation_chain(case.team)
    team = Team.objects.filter(slug=by).select_related("supervisor").first()
    if team is None:
        return []
    people = list(team.members.filter(is_active=True).order_by("id"))
    if team.supervisor and team.supervisor.is_active and team.supervisor not in people:
        people.append(team.supervisor)
    return people


def is_admin(user: User) -> bool:
    return user.role == User.Role.ADMIN or user.is_superuser


def can_approve(user: User, case: Case, by: str | None = None) -> bool:
    by = case.approval_by if by is None else by
    if not user.is_active or not by:
        return False
    return is_admin(user) or user in approvers(case, by)


def approvers_to_notify(case: Case, by: str | None = None) -> list[User]:
    # Admins may approve anything but hear only when nobody else can.
    return approvers(case, by) or list(User.objects.filter(
        Q(role=User.Role.ADMIN) | Q(is_superuser=True), is_active=True).order_by("id"))


def awaiting_approval_by(user: User) -> list[Reply]:
    """Replies waiting for approval that this user may approve, oldest first."""
    replies = (Reply.objects.filter(status=Reply.Status.AWAITING_APPROVAL)
               .select_related("case__team__supervisor", "case__team__parent", "author",
                               "in_reply_to__author")
               .order_by("created_at", "id"))
    if is_admin(user):
        return list(replies)
    slugs = (set(user.teams.values_list("slug", flat=True))
             | set(user.supervised_teams.values_list("slug", flat=True)))
    candidates = replies.filter(Q(approval_by=SUPERVISOR_APPROVAL) | Q(approval_by__in=slugs))
    return [r for r in candidates if can_approve(user, r.case, r.approval_by)]


def access_reply(user: User, reply_id: int) -> Reply:
    """The reply, if this user may see its case; 404 otherwise."""
    try:
        return (Reply.objects.select_related("case__team", "author", "in_reply_to__author")
                .get(pk=reply_id, case__in=cases_visible_to(user)))
    except Reply.DoesNotExist:
        raise Http404("No such reply") from None


def replies_of(case: Case) -> list[Reply]:
    return list(case.replies.select_related("author", "reviewed_by").order_by("created_at", "id"))


def notes_of(case: Case) -> list[Note]:
    return list(case.notes.select_related("author").prefetch_related("mentions"))


def follow_ups_of(case: Case) -> list[FollowUp]:
    return list(case.follow_ups.select_related("created_by"))


def others_on_case(case: Case, user: User, now: datetime,
                   fresh: timedelta = PRESENCE_FRESH) -> list[dict]:
    """Other people who had the case open lately, and whether they are writing a reply."""
    rows = (CasePresence.objects.filter(case=case, seen_at__gte=now - fresh)
            .exclude(user=user).select_related("user").order_by("-drafting", "user__username"))
    return [{"username": r.user.username, "drafting": r.drafting, "seen_at": r.seen_at}
            for r in rows]
