from django.db.models import Q, QuerySet
from django.http import Http404

from socialdesk.accounts.models import User
from socialdesk.cases.models import Case
from socialdesk.ingestion.models import Post

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
    return cases.filter(Q(team__in=user.teams.all()) | Q(assignee=user))


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
