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

INBOX_VIEWS = {
    "needs-response": ("Needs response", Q(decision__in=("respond", "escalate"),
                                            status__in=Case.OPEN_STATUSES)),
    "mine": ("Mine", None),  # filled per user
    "monitor": ("Monitor", Q(decision__in=("monitor", "let_stand"),
                             status__in=Case.OPEN_STATUSES)),
    "resolved": ("Resolved", Q(status__in=(Case.Status.RESOLVED, Case.Status.CLOSED))
                 & ~Q(decision="hide")),
    "hidden": ("Hidden", Q(decision="hide")),
}


def cases_visible_to(user: User) -> QuerySet[Case]:
    cases = Case.objects.all()
    if user.is_supervisor_or_admin or user.is_superuser:
        return cases
    # A team that approves replies (legal, PR) needs the thread to judge them.
    return cases.filter(Q(team__in=user.teams.all()) | Q(assignee=user)
                        | Q(approval_by__in=user.teams.values("slug")))


def access_case(user: User, case_id: int) -> Case:
    """The case, if this user may see it; 404 otherwise (no hint that it exists)."""
    try:
        return cases_visible_to(user).select_related("team", "assignee", "contact").get(pk=case_id)
    except Case.DoesNotExist:
        raise Http404("No such case") from None


def inbox(user: User, view: str, team: str = "", channel: str = "") -> QuerySet[Case]:
    if view not in INBOX_VIEWS:
        view = "needs-response"
    cases = cases_visible_to(user)
    if view == "mine":
        cases = cases.filter(assignee=user, status__in=Case.OPEN_STATUSES)
    else:
        cases = cases.filter(INBOX_VIEWS[view][1])
    if team:
        cases = cases.filter(team__slug=team)
    if channel:
        cases = cases.filter(channel=channel)
    order = ("-resolved_at", "-opened_at") if view == "resolved" else ("priority", "opened_at")
    return cases.select_related("team", "assignee", "contact").order_by(*order)


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
