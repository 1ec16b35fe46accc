"""The inbox's queries: queues, filters, search, counts and what changed since a poll."""

from dataclasses import dataclass
from datetime import MAXYEAR, UTC, date, datetime, time, timedelta
from functools import cached_property

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from socialdesk.accounts.models import Team, User
from socialdesk.cases.models import Case, FollowUp, Reply
from socialdesk.cases.queries import (
    SUPERVISOR_APPROVAL,
    cases_visible_to,
    is_admin,
    teams_visible_to,
)
from socialdesk.ingestion.models import Post
from socialdesk.search.queries import search_filter
from socialdesk.triage.models import Triage

DEFAULT_VIEW = "needs-response"
INBOX_VIEWS = {
    "needs-response": "Needs response",
    "mine": "Mine",
    "unassigned": "Unassigned",
    "breaching": "Breaching soon",
    "approval": "Awaiting approval",
    "monitor": "Monitor only",
    "following": "Following up",
    "all": "All",
    "resolved": "Resolved",
    "hidden": "Hidden",
}
# Views shown as tabs with a count; "resolved" and "hidden" are links beside them.
INBOX_TABS = ("needs-response", "mine", "unassigned", "breaching", "approval", "monitor",
              "following", "all")
SORTS = {"sla": "SLA due first", "priority": "Priority", "newest": "Newest"}
NOBODY = "-"  # the assignee filter for cases nobody has
NEEDS_RESPONSE = ("respond", "escalate")
BREACHING_WITHIN = timedelta(hours=1)
# Counts stop here: counting 100,000 open cases for every tab on every page view
# would cost more than the page itself; "1,000+" says enough.
COUNT_CAP = 1000
SMALL_SET = 5000  # see _cases_of


@dataclass(frozen=True)
class InboxFilters:
    """Filters as checked by the caller (the inbox form or the API schema); empty: any."""

    channel: str = ""
    category: str = ""
    sentiment: str = ""
    priority: str = ""
    status: str = ""
    team: str = ""  # a team slug
    assignee: str = ""  # a username, or NOBODY
    topic: str = ""  # a topic slug
    lang: str = ""
    opened_from: date | None = None
    opened_to: date | None = None  # inclusive
    q: str = ""
    sort: str = "sla"


class InboxScope:
    """What one user's inbox reaches, worked out once per request: the cases they may
    see, and the teams whose queues are theirs (every team for admins)."""

    def __init__(self, user: User):
        self.user = user
        self.cases = cases_visible_to(user)

    @cached_property
    def teams(self) -> list[Team]:
        teams = Team.objects.all() if is_admin(self.user) else teams_visible_to(self.user)
        return list(teams.order_by("name"))


def _awaiting_approval(user: User) -> Q:
    """Cases with a reply that waits for this user's approval; every such case for
    supervisors and admins (narrowed, like every view, to the cases they see)."""
    replies = Reply.objects.filter(status=Reply.Status.AWAITING_APPROVAL)
    if not (user.is_supervisor_or_admin or user.is_superuser):
        # A named team's members and supervisor approve; for "supervisor", the
        # team's escalation chain: the supervisors of the team and of those above.
        teams = list(Team.objects.values_list("id", "slug", "parent_id", "supervisor_id"))
        member_of = set(user.teams.values_list("id", flat=True))
        chain = {team for team, _, _, head in teams if head == user.pk}
        while below := {team for team, _, parent, _ in teams if parent in chain} - chain:
            chain |= below
        slugs = {slug for team, slug, _, head in teams if head == user.pk or team in member_of}
        replies = replies.filter(Q(approval_by__in=slugs) | Q(
            approval_by=SUPERVISOR_APPROVAL, case__team__in=chain))
    return _cases_of(replies)


def _cases_of(rows: QuerySet) -> Q:
    """The cases of rows of a work queue kept in another table (follow-ups, replies):
    their ids read first while there are few, so that the planner looks those cases
    up instead of walking every case in id order to meet them (one parameter,
    not thousands of placeholders: lib.lookups)."""
    ids = list(rows.order_by().values_list("case_id", flat=True).distinct()[:SMALL_SET + 1])
    if len(ids) > SMALL_SET:
        return Q(pk__in=rows.values("case_id"))
    return Q(pk__in=ids)


def _view_condition(scope: InboxScope, view: str, now: datetime) -> tuple[Q, tuple | None]:
    """The view's condition, and the statuses it shows unless a status filter says."""
    open_ = Case.OPEN_STATUSES
    if view == "mine":
        return Q(assignee=scope.user), open_
    if view == "unassigned":
        condition = Q(assignee__isnull=True, decision__in=NEEDS_RESPONSE)
        if not is_admin(scope.user):
            condition &= Q(team_id__in=[team.pk for team in scope.teams])
        return condition, open_
    if view == "breaching":
        return Q(sla_due_at__lte=now + BREACHING_WITHIN), open_
    if view == "approval":
        return _awaiting_approval(scope.user), None
    if view == "monitor":
        return Q(decision__in=("monitor", "let_stand")), open_
    if view == "following":
        return _cases_of(FollowUp.objects.filter(status=FollowUp.Status.WAITING)), None
    if view == "all":
        return Q(), None
    if view == "resolved":
        return ~Q(decision="hide"), (Case.Status.RESOLVED, Case.Status.CLOSED)
    if view == "hidden":
        return Q(decision="hide"), None
    return Q(decision__in=NEEDS_RESPONSE), open_  # needs-response, the default


def _day_start(day: date, zone) -> datetime | None:
    """The day's first moment in the zone; None for a day at either end of the calendar
    (year 1 or 9999) whose start, in UTC where the database compares, a datetime cannot
    hold."""
    try:
        start = datetime.combine(day, time.min, zone)
        start.astimezone(UTC)
    except OverflowError:
        return None
    return start


def _filter_condition(filters: InboxFilters) -> Q:
    """SearchError when the search cannot run."""
    condition = Q()
    for name in ("channel", "category", "priority", "lang"):
        if getattr(filters, name):
            condition &= Q(**{name: getattr(filters, name)})
    if filters.team:
        condition &= Q(team__slug=filters.team)
    if filters.assignee == NOBODY:
        condition &= Q(assignee__isnull=True)
    elif filters.assignee:
        condition &= Q(assignee__username=filters.assignee)
    if filters.topic:
        # Topics are stored as a JSON list of slugs; a slug in quotes matches one
        # element exactly, on SQLite (no JSON containment) and PostgreSQL alike.
        condition &= Q(topics__icontains=f'"{filters.topic}"')
    if filters.sentiment:
        # The opening post's triage: the case's earliest inbound post, which is what
        # opened_at records.
        condition &= Q(Exists(Triage.objects.filter(
            post__case=OuterRef("pk"), post__direction=Post.Direction.INBOUND,
            post__created_at=OuterRef("opened_at"), sentiment=filters.sentiment)))
    zone = timezone.get_current_timezone()
    if filters.opened_from:
        start = _day_start(filters.opened_from, zone)
        if start is not None:
            condition &= Q(opened_at__gte=start)
        elif filters.opened_from.year == MAXYEAR:  # after the last moment there is
            condition &= Q(pk__in=[])
    # Through the last day of the calendar, or a day whose end is past it: no bound.
    if filters.opened_to and filters.opened_to < date.max:
        end = _day_start(filters.opened_to + timedelta(days=1), zone)
        if end is not None:
            condition &= Q(opened_at__lt=end)
    if filters.q:
        condition &= search_filter(filters.q)
    return condition


def _order(view: str, sort: str) -> list:
    sla_first = F("sla_due_at").asc(nulls_last=True)
    if sort == "newest":
        return ["-opened_at", "-pk"]
    if sort == "priority":
        return ["priority", sla_first, "opened_at", "pk"]
    if view == "resolved":
        return [F("resolved_at").desc(nulls_last=True), "-pk"]
    return [sla_first, "priority", "opened_at", "pk"]


def inbox(user: User, view: str, filters: InboxFilters | None = None,
          now: datetime | None = None, scope: InboxScope | None = None) -> QuerySet[Case]:
    """The cases of a view the user may see, filtered and sorted (SLA due time first,
    then priority and age, unless the filters sort otherwise). SearchError when the
    search in the filters cannot run."""
    filters = filters or InboxFilters()
    scope = scope or InboxScope(user)
    view = view if view in INBOX_VIEWS else DEFAULT_VIEW
    condition, statuses = _view_condition(scope, view, now or timezone.now())
    cases = scope.cases.filter(condition)
    if filters.status:
        cases = cases.filter(status=filters.status)
    elif statuses:
        cases = cases.filter(status__in=statuses)
    cases = cases.filter(_filter_condition(filters))
    return cases.select_related("team", "assignee").order_by(*_order(view, filters.sort))


def capped_counts(querysets: list[QuerySet]) -> list[int]:
    """How many rows each has, up to COUNT_CAP + 1 (shown as "1,000+"), reading at
    most that many rows of each, in one statement."""
    if not querysets:
        return []
    parts, params = [], []
    for i, cases in enumerate(querysets):
        try:
            sql, view_params = cases.order_by().values("pk")[:COUNT_CAP + 1] \
                .query.sql_with_params()
        except EmptyResultSet:  # a condition such as "in no case at all"
            parts.append("0")
            continue
        parts.append(f"(SELECT count(*) FROM ({sql}) AS counted{i})")
        params.extend(view_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        return list(cursor.fetchone())


def inbox_counts(scope: InboxScope, team: str = "", now: datetime | None = None
                 ) -> dict[str, int]:
    """Each tab's count (capped), within one team when given."""
    filters = InboxFilters(team=team)
    views = [inbox(scope.user, view, filters, now, scope) for view in INBOX_TABS]
    return dict(zip(INBOX_TABS, capped_counts(views), strict=True))


def team_open_counts(scope: InboxScope) -> list[tuple[Team, int]]:
    """The teams whose queues the user watches, each with its open cases (capped)."""
    open_cases = scope.cases.filter(status__in=Case.OPEN_STATUSES)
    counts = capped_counts([open_cases.filter(team=team) for team in scope.teams])
    return list(zip(scope.teams, counts, strict=True))


def opening_posts(case_ids: list[int]) -> dict[int, Post]:
    """Each case's opening post (its earliest inbound one) with author and triage, in one
    query whatever the number of cases: what inbox rows show."""
    first = (Post.objects.filter(case=OuterRef("pk"), direction=Post.Direction.INBOUND)
             .order_by("created_at", "id").values("pk")[:1])
    ids = Case.objects.filter(pk__in=case_ids).annotate(opener=Subquery(first)).values("opener")
    posts = (Post.objects.filter(pk__in=ids).select_related("author", "triage")
             .only("case_id", "text", "followers", "created_at", "author__handle",
                   "author__name", "author__followers", "triage__sentiment"))
    return {p.case_id: p for p in posts}


def inbox_changes(scope: InboxScope, view: str, filters: InboxFilters, since: datetime,
                  shown: list[int]) -> tuple[int, int]:
    """(new, changed) since the page was drawn: cases of the view that appeared or
    changed, and shown cases that changed (perhaps out of the view). Two small
    queries on updated_at: cheap enough to poll."""
    rows = dict(inbox(scope.user, view, filters, scope=scope).filter(updated_at__gt=since)
                .order_by().values_list("pk", "created_at")[:COUNT_CAP])
    new = {pk for pk, created in rows.items() if created > since}
    changed = set(rows) - new
    if shown:
        changed |= set(scope.cases.filter(pk__in=shown[:500], updated_at__gt=since)
                       .values_list("pk", flat=True)) - new
    return len(new), len(changed)
