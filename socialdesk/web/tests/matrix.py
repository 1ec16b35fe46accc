"""The machinery of the role matrix (test_role_matrix.py holds the table): the routes
found by walking the URL resolver, one client per role, and how an answer is judged."""

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from django.contrib import messages
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from socialdesk.accounts.actions import do_create_api_token
from socialdesk.accounts.models import ApiToken, User
from socialdesk.cases.models import Case, Reply, SavedReply
from socialdesk.contacts.models import Merge, MergeSuggestion
from socialdesk.ingestion.models import Post

OK, REFUSED, FORBIDDEN, NOT_FOUND = "ok", "refused", "403", "404"
LOGIN, UNAUTHORIZED = "login", "401"
# Any answer of the page itself (OK, REFUSED, 403, 404...): neither a login nor a crash.
REACHED = "reached"
GET, POST = "GET", "POST"
ROLES = ("anonymous", "agent", "outsider", "supervisor", "other_supervisor", "admin")


class E(NamedTuple):
    """One line of the table: the method, what each role meets, the data posted."""

    method: str
    anonymous: str
    agent: str
    outsider: str
    supervisor: str
    other_supervisor: str
    admin: str
    data: Any = None


@dataclass
class World:
    case: Case
    post: Post
    held_reply: Reply
    token: ApiToken
    saved: SavedReply
    merge: Merge
    suggestion: MergeSuggestion
    people: dict[str, User | None]
    teammate: User
    webhook_source: str  # the slug of a source of the signed webhook


@dataclass(frozen=True)
class Route:
    key: str  # namespace:name, or the pattern of an unnamed route
    pattern: str
    is_regex: bool

    @property
    def params(self) -> list[str]:
        if self.is_regex:
            return re.findall(r"\(\?P<(\w+)>", self.pattern)
        return re.findall(r"<(?:\w+:)?(\w+)>", self.pattern)

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith("api/")

    def url(self, world: World, ids: Mapping[str, Callable[[World], Any]]) -> str:
        missing = [p for p in self.params if p not in ids]
        if missing:
            raise LookupError(f"{self.key} takes {', '.join(missing)}: say in IDS how the test "
                              "makes one of care's")
        if self.is_regex:
            path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(ids[m[1]](world)), self.pattern)
            path = path.replace("^", "").replace("$", "")
        else:
            path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m[1]](world)), self.pattern)
        return "/" + path


def walk(patterns=None, prefix: str = "", namespace: str = ""):
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace and (f"{namespace}:{p.namespace}" if namespace else p.namespace)
            yield from walk(p.url_patterns, prefix + str(p.pattern), ns or namespace)
        elif isinstance(p, URLPattern):
            pattern = prefix + str(p.pattern)
            key = (f"{namespace}:{p.name}" if namespace else p.name) if p.name else pattern
            yield Route(key, pattern, "(?P<" in pattern or "^" in pattern)


def routes() -> list[Route]:
    found: dict[str, Route] = {}
    for route in walk():
        found.setdefault(route.key, route)  # the first one is the one Django resolves
    return list(found.values())


class Caller:
    """One client per role: a session for the pages, the person's own token for the API."""

    def __init__(self, world: World, ids: Mapping[str, Callable[[World], Any]]):
        self.world, self.ids = world, ids
        self.login_paths = {reverse("web:login"), reverse("admin:login")}
        self.pages, self.tokens = {}, {}
        for role, person in world.people.items():
            client = Client(raise_request_exception=False)
            if person is not None:
                client.force_login(person)
                self.tokens[role] = do_create_api_token(person, "matrix")[1]
            self.pages[role] = client
        self.api = Client(raise_request_exception=False)

    def call(self, route: Route, line: E, role: str):
        data = line.data(self.world) if callable(line.data) else line.data
        url = route.url(self.world, self.ids)
        if route.is_api:
            client = self.api
            extra = {"HTTP_AUTHORIZATION": f"Bearer {self.tokens[role]}"} if role in self.tokens \
                else {}
            kwargs = {"content_type": "application/json"} if line.method == POST else {}
            kwargs["data"] = data if data is not None else ({} if line.method == POST else None)
        else:
            client, extra, kwargs = self.pages[role], {}, {"data": data or {}}
        cookies = copy.deepcopy(client.cookies)  # a logout must not end the next request's
        with transaction.atomic():
            response = getattr(client, line.method.lower())(url, **kwargs, **extra)
            transaction.set_rollback(True)
        client.cookies = cookies
        return response

    def outcome(self, response) -> str:
        status = response.status_code
        if status in (301, 302, 303, 307, 308) and \
                urlsplit(response["Location"]).path in self.login_paths:
            return LOGIN
        if status < 400:
            flashed = messages.get_messages(response.wsgi_request)
            return REFUSED if any(m.level >= messages.ERROR for m in flashed) else OK
        if status in (400, 409, 422):
            return REFUSED
        return str(status)


def is_html_page(response) -> bool:
    return response.status_code < 300 and \
        response.get("Content-Type", "").startswith("text/html")


def suggestion(caller: Caller, route: Route) -> str:
    """A line for a route that has none, from what it answers now (GET, else POST):
    a start for its author, who checks every cell against the rule."""
    line = E(GET, *[""] * 6)
    got = {role: caller.outcome(caller.call(route, line, role)) for role in ROLES}
    if "405" in got.values():
        line = E(POST, *[""] * 6)
        got = {role: caller.outcome(caller.call(route, line, role)) for role in ROLES}
    names = {OK: "OK", REFUSED: "REFUSED", FORBIDDEN: "FORBIDDEN", NOT_FOUND: "NOT_FOUND",
             LOGIN: "LOGIN", UNAUTHORIZED: "UNAUTHORIZED"}
    cells = ", ".join(names.get(got[role], repr(got[role])) for role in ROLES)
    return f'    "{route.key}": E({line.method}, {cells}),'
