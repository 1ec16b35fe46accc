"""The inbox: queues, filters, search and bulk actions over the cases a user may see."""

import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST

from socialdesk.accounts.models import User
from socialdesk.cases import bulk
from socialdesk.cases import inbox as inbox_queries
from socialdesk.cases.actions import TAG_MAX_CHARS, ActionError
from socialdesk.cases.inbox import (
    DEFAULT_VIEW,
    INBOX_TABS,
    INBOX_VIEWS,
    NOBODY,
    SORTS,
    InboxFilters,
    InboxScope,
    inbox,
    inbox_changes,
    inbox_counts,
    opening_posts,
    team_open_counts,
)
from socialdesk.cases.models import Case
from socialdesk.cases.queries import is_admin
from socialdesk.connectors import channels
from socialdesk.search.queries import MAX_QUERY_CHARS, SearchError, parse
from socialdesk.triage.feedback import CATEGORIES, SENTIMENTS
from socialdesk.triage.models import Topic

PER_PAGE = 50
MAX_PAGE = 200
PRIORITIES = ("P0", "P1", "P2", "P3", "P4")
_LANG = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?", re.IGNORECASE)
FILTER_LABELS = {"q": "search", "opened_from": "opened from", "opened_to": "opened to",
                 "lang": "language"}


def _choices(values, empty: str) -> list[tuple[str, str]]:
    return [("", empty)] + [(v, v) for v in values]


class InboxFilterForm(forms.Form):
    """The inbox's query string. A value that does not fit is left out, with a notice:
    a bookmark that outlived a team or a topic still opens."""

    q = forms.CharField(required=False, max_length=MAX_QUERY_CHARS, label="Search",
                        help_text='Words, "a phrase", -word, OR, @handle or a case ref')
    channel = forms.ChoiceField(required=False, label="Channel",
                                choices=[("", "Any channel")]
                                + channels.choices())
    category = forms.ChoiceField(required=False, choices=_choices(CATEGORIES, "Any category"),
                                 label="Category")
    sentiment = forms.ChoiceField(required=False, label="Sentiment",
                                  choices=_choices(SENTIMENTS, "Any sentiment"))
    priority = forms.ChoiceField(required=False, choices=_choices(PRIORITIES, "Any priority"),
                                 label="Priority")
    status = forms.ChoiceField(required=False, label="Status",
                               choices=[("", "As the view says")] + Case.Status.choices)
    team = forms.ChoiceField(required=False, label="Team")
    assignee = forms.ChoiceField(required=False, label="Assignee")
    topic = forms.ChoiceField(required=False, label="Topic")
    lang = forms.CharField(required=False, max_length=16, label="Language",
                           help_text="e.g. en, pt")
    opened_from = forms.DateField(required=False, label="Opened from",
                                  widget=forms.DateInput(attrs={"type": "date"}))
    opened_to = forms.DateField(required=False, label="Opened to",
                                widget=forms.DateInput(attrs={"type": "date"}))
    sort = forms.ChoiceField(required=False, choices=list(SORTS.items()), label="Sort by")

    def __init__(self, data, *, teams, agents, topics):
        """teams, agents, topics: the (value, label) pairs each filter may take."""
        super().__init__(data)
        self.fields["team"].choices = [("", "All my teams"), *teams]
        self.fields["assignee"].choices = [("", "Anyone"), (NOBODY, "Nobody"), *agents]
        self.fields["topic"].choices = [("", "Any topic"), *topics]

    def clean_q(self):
        query = self.cleaned_data["q"].strip()
        if query:
            try:
                parse(query)
            except SearchError as e:
                raise forms.ValidationError(str(e)) from None
        return query

    def clean_lang(self):
        lang = self.cleaned_data["lang"].strip().lower()
        if lang and not _LANG.fullmatch(lang):
            raise forms.ValidationError("a language is a code such as en or pt-br")
        return lang

    def filters(self) -> InboxFilters:
        """The values that passed; full_clean has run."""
        data = {name: value for name, value in self.cleaned_data.items()
                if value not in (None, "")}
        if data.get("opened_from") and data.get("opened_to") and \
                data["opened_to"] < data["opened_from"]:
            data.pop("opened_to")
        return InboxFilters(**data)

    def notices(self) -> list[str]:
        notices = []
        for name, errors in self.errors.items():
            value = str(self.data.get(name, ""))[:60]
            label = FILTER_LABELS.get(name, name)
            notices.append(f"Ignored {label} {value!r}: {' '.join(errors).rstrip('.')}.")
        valid = self.cleaned_data
        if valid.get("opened_from") and valid.get("opened_to") and \
                valid["opened_to"] < valid["opened_from"]:
            notices.append("Ignored opened to: it is before opened from.")
        return notices

    def query_string(self, **override) -> str:
        """The valid filters as a query string, for links that keep them."""
        values = {name: value for name, value in vars(self.filters()).items()
                  if value and not (name == "sort" and value == "sla")}
        values.update(override)
        return urlencode({k: str(v) for k, v in values.items() if v})


class IdsField(forms.Field):
    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        try:
            return sorted({int(v) for v in (value or [])})
        except (TypeError, ValueError):
            raise forms.ValidationError("Case ids are whole numbers.") from None


class BulkForm(forms.Form):
    action = forms.ChoiceField(choices=list(bulk.ACTIONS.items()),
                               label="With the selected cases")
    ids = IdsField(required=False)
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False,
                                      to_field_name="username", label="Assignee",
                                      empty_label="Choose an agent")
    tag = forms.CharField(required=False, max_length=TAG_MAX_CHARS, label="Tag")
    back = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, *args, agents, **kwargs):
        # Its own ids: the filter form on the same page has an assignee field too.
        super().__init__(*args, auto_id="bulk_%s", **kwargs)
        self.fields["assignee"].queryset = agents
        self.fields["assignee"].label_from_instance = lambda u: u.get_full_name() or u.username

    def clean(self):
        data = super().clean()
        if data.get("action") == "assign" and not data.get("assignee"):
            self.add_error("assignee", "Choose who gets the cases.")
        if data.get("action") == "tag" and not (data.get("tag") or "").strip():
            self.add_error("tag", "Write the tag to add.")
        return data


def _agents(scope: InboxScope):
    people = User.objects.filter(is_active=True)
    if not is_admin(scope.user):
        people = people.filter(teams__in=[team.pk for team in scope.teams]).distinct()
    return people.order_by("username")


def _count_label(n: int) -> str:
    cap = inbox_queries.COUNT_CAP
    return f"{cap:,}+" if n > cap else f"{n:,}"


def _span(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} d {hours % 24} h" if hours % 24 else f"{hours // 24} d"


def sla_countdown(due: datetime | None, now: datetime) -> tuple[str, str]:
    """("12 min left", "soon") or ("overdue 5 min", "overdue"); desk.js ticks the same."""
    if due is None:
        return "", "none"
    seconds = (due - now).total_seconds()
    if seconds < 0:
        return f"overdue {_span(-seconds)}", "overdue"
    return f"{_span(seconds)} left", "soon" if seconds <= 3600 else "ok"


def _reach(followers: int | None) -> str:
    if followers is None:
        return ""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if followers >= size:
            value = followers / size
            return f"{value:.1f}".rstrip("0").rstrip(".") + suffix if value < 10 else \
                f"{value:.0f}{suffix}"
    return str(followers)


def _decorate(cases: list[Case], now: datetime) -> None:
    """What each row shows beyond the case: from its opening post, fetched in one query."""
    openers = opening_posts([c.pk for c in cases])
    for case in cases:
        post = openers.get(case.pk)
        triage = getattr(post, "triage", None) if post else None
        case.opener = post
        case.sentiment = triage.sentiment if triage else ""
        followers = (post.followers if post.followers is not None else post.author.followers) \
            if post else None
        case.reach = _reach(followers)
        facts = channels.channel(case.channel)
        case.badge, case.channel_name = facts.badge, facts.label
        case.sla_label, case.sla_state = sla_countdown(case.sla_due_at, now)


@dataclass
class InboxPage:
    cases: list[Case]
    number: int
    has_next: bool
    start: int = 0
    end: int = 0
    total: str = ""
    ids: list[int] = field(default_factory=list)

    def __iter__(self):
        return iter(self.cases)

    def __len__(self):
        return len(self.cases)

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def _page(cases, number: int, now: datetime) -> InboxPage:
    """The page's cases and the (capped) total, from one ordered read of ids: the
    list's query runs once, and a search's costly part with it."""
    start, cap = (number - 1) * PER_PAGE, inbox_queries.COUNT_CAP
    ordered = cases.values_list("pk", flat=True)
    if start + PER_PAGE <= cap:
        ids = list(ordered[:cap + 1])
        total, ids = len(ids), ids[start:start + PER_PAGE + 1]
    else:  # past the counted rows: there are at least that many
        ids = list(ordered[start:start + PER_PAGE + 1])
        total = cap + 1
    found = cases.model.objects.select_related("team", "assignee").in_bulk(ids[:PER_PAGE])
    page = InboxPage([found[pk] for pk in ids[:PER_PAGE] if pk in found], number,
                     len(ids) > PER_PAGE, total=_count_label(total))
    _decorate(page.cases, now)
    page.ids = [c.pk for c in page.cases]
    page.start = start + 1 if page.cases else 0
    page.end = start + len(page.cases)
    return page


def _page_number(raw: str | None) -> int:
    return min(MAX_PAGE, max(1, int(raw))) if raw and raw.isascii() and raw.isdigit() else 1


def _read_filters(request, teams=None, agents=None):
    """(view, form, notices) from the query string; invalid values left out.

    Without the teams and agents (the poll), the team, assignee and topic in the
    query string are taken as they come: the page checked them when it drew the
    link, and a value that no longer fits only finds nothing.
    """
    view = request.GET.get("view") or DEFAULT_VIEW
    notices = []
    if view not in INBOX_VIEWS:
        notices.append(f"Ignored view {view[:40]!r}: there is no such view.")
        view = DEFAULT_VIEW
    if teams is None:
        # A value with a NUL names nothing (and PostgreSQL refuses it in a query):
        # not a choice, so the form ignores it.
        given = {name: [(request.GET[name], "")]
                 if request.GET.get(name) and "\x00" not in request.GET[name] else []
                 for name in ("team", "assignee", "topic")}
        choices = {"teams": given["team"], "agents": given["assignee"],
                   "topics": given["topic"]}
    else:
        choices = {
            "teams": [(team.slug, f"{team.name} ({_count_label(n)} open)") for team, n in teams],
            "agents": [(u.username, u.get_full_name() or u.username) for u in agents],
            "topics": list(Topic.objects.filter(is_active=True).order_by("slug")
                           .values_list("slug", "name")),
        }
    form = InboxFilterForm(request.GET, **choices)
    form.is_valid()
    return view, form, notices + form.notices()


@require_GET
def inbox_view(request):
    now = timezone.now()
    scope = InboxScope(request.user)
    teams = team_open_counts(scope)
    agents = _agents(scope)
    view, form, notices = _read_filters(request, teams, agents)
    filters = form.filters()
    cases = inbox(request.user, view, filters, now, scope)
    page = _page(cases, _page_number(request.GET.get("page")), now)
    counts = inbox_counts(scope, filters.team, now)
    query = form.query_string()
    context = {
        "page": page, "view": view, "view_label": INBOX_VIEWS[view], "form": form,
        "notices": notices, "query": query, "since": now.isoformat(), "teams": teams,
        "tabs": [{"key": key, "label": INBOX_VIEWS[key], "count": _count_label(counts[key])}
                 for key in INBOX_TABS],
        "more_views": [(key, INBOX_VIEWS[key]) for key in ("resolved", "hidden")],
        "team_query": form.query_string(team=""),
        "team": filters.team, "team_links": [(t, _count_label(n)) for t, n in teams],
        "agents": agents,
        "bulk_form": BulkForm(agents=agents,
                              initial={"back": urlencode({"view": view}) + "&" + query}),
    }
    if request.htmx and request.htmx.target == "inbox-results":
        return render(request, "web/_inbox_results.html", {**context, "oob": True})
    return render(request, "web/inbox.html", context)


@require_GET
def inbox_changes_view(request):
    """Polled every 15 s by the inbox: how many cases of the view are new or changed
    since the page was drawn. Answers a short notice, never the rows."""
    try:
        since = parse_datetime(request.GET.get("since") or "")
    except ValueError:  # well formed, but no such time
        since = None
    if since is None or timezone.is_naive(since):
        return HttpResponse("The page is out of date: reload it.", status=400,
                            content_type="text/plain")
    view, form, _ = _read_filters(request)
    shown = [int(v) for v in (request.GET.get("shown") or "").split(",")
             if v.isascii() and v.isdigit()]
    try:
        new, changed = inbox_changes(InboxScope(request.user), view, form.filters(), since,
                                     shown)
    except SearchError:
        new = changed = 0
    refresh = reverse("web:inbox") + "?" + urlencode({"view": view}) + "&" + form.query_string()
    return render(request, "web/_inbox_changes.html",
                  {"new": new, "changed": changed, "refresh_url": refresh})


@require_POST
def inbox_bulk_view(request):
    form = BulkForm(request.POST, agents=User.objects.filter(is_active=True))
    back = reverse("web:inbox") + "?" + QueryDict(request.POST.get("back", "")).urlencode()
    if not form.is_valid():
        messages.error(request, "; ".join(e for errs in form.errors.values() for e in errs))
        return redirect(back)
    data = form.cleaned_data
    try:
        cases = bulk.check_cases(request.user, data["ids"])
        done = bulk.do_bulk(data["action"], cases, request.user, data["assignee"],
                            data["tag"])
    except ActionError as e:
        messages.error(request, str(e))
        return redirect(back)
    messages.success(request, f"{bulk.ACTIONS[data['action']].rstrip('…')}: {done} of "
                              f"{len(cases)} case{'s' if len(cases) != 1 else ''} changed.")
    return redirect(back)
