"""A Mastodon server as its API documentation describes it, on pytest-httpserver: the
endpoints the connector uses, answering with the documented payloads (fixtures/),
paginated with Link headers as Mastodon sends them, and errors on demand."""

import copy
import json
import queue
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from werkzeug import Request, Response

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str):
    return copy.deepcopy(json.loads((FIXTURES / f"{name}.json").read_text())["body"])


class FakeMastodon:
    """The brand's server, example.social, at the test server's address."""

    def __init__(self, httpserver):
        self.httpserver = httpserver
        self.base = httpserver.url_for("/").rstrip("/")
        self.me = fixture("account")
        self.notifications: list[dict] = []  # oldest first
        self.statuses: dict[str, dict] = {}  # every status the server knows, by id
        self.posted: list[dict] = []  # statuses posted through the API
        self.idempotency: dict[str, str] = {}  # key -> status id
        self.requests: list[dict] = []
        self.failures: list[tuple[str, int, dict, dict]] = []
        self.lost: list[str] = []  # paths whose next answer is lost after the work is done
        self.next_id = 113600000000000100
        # The notification stream (GET /api/v1/streaming/user/notification,
        # https://docs.joinmastodon.org/methods/streaming/#notification): events
        # (event name, payload) put here are sent while a connection is open, which
        # stays open until None is put (on a server made with threaded=True).
        self.stream: queue.Queue = queue.Queue()
        httpserver.expect_request(re.compile("^/")).respond_with_handler(self.handle)

    # What the server holds

    def status(self, text_html: str, author=None, visibility="public", mentions=("care",),
               in_reply_to=None, tags=(), spoiler="", at=None, status_id=None) -> dict:
        status = fixture("status")
        self.next_id += 1
        status_id = str(status_id or self.next_id)
        if author is not None:
            status["account"].update(author)
        status.update(
            id=status_id, content=text_html, visibility=visibility, spoiler_text=spoiler,
            sensitive=bool(spoiler), in_reply_to_id=in_reply_to,
            uri=f"https://other.example/users/dana/statuses/{status_id}",
            url=f"https://other.example/@dana/{status_id}",
            created_at=at or "2026-12-07T09:00:00.000Z",
            mentions=[{"id": str(100 + n), "username": acct.split("@")[0],
                       "url": f"https://{acct.partition('@')[2] or 'example.social'}/@"
                              f"{acct.split('@')[0]}", "acct": acct}
                      for n, acct in enumerate(mentions)],
            tags=[{"name": t, "url": f"https://example.social/tags/{t}"} for t in tags])
        self.statuses[status_id] = status
        return status

    def mention(self, status: dict) -> dict:
        notification = fixture("notification")
        notification.update(id=str(900000 + len(self.notifications) + 1),
                            account=status["account"], status=status,
                            group_key=f"ungrouped-{900000 + len(self.notifications) + 1}")
        self.notifications.append(notification)
        return notification

    def fail(self, path: str, code: int, body: dict | None = None, headers=None, times=1):
        """The next `times` requests whose path starts with `path` get this error."""
        for _ in range(times):
            self.failures.append((path, code, body or fixture("errors").get(str(code), {}),
                                  headers or {}))

    def lose_answer(self, path: str):
        """The next request to `path` is carried out, and a gateway times out on its answer."""
        self.lost.append(path)

    def rate_limited(self, path: str, reset_in: int = 120):
        now = datetime.now(UTC)
        reset = (now + timedelta(seconds=reset_in)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        self.fail(path, 429, headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                                      "X-RateLimit-Reset": reset})

    def seen(self, method: str, path: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == method and r["path"] == path]

    # The API

    def handle(self, request: Request) -> Response:
        self.requests.append({"method": request.method, "path": request.path,
                              "args": request.args.to_dict(flat=False),
                              "form": request.form.to_dict(), "headers": dict(request.headers)})
        for n, (path, code, body, headers) in enumerate(self.failures):
            if request.path.startswith(path):
                del self.failures[n]
                return self.json(body, code, headers)
        if request.headers.get("Authorization") != "Bearer secret-token":
            return self.json({"error": "The access token is invalid"}, 401)
        path, method = request.path, request.method
        if path == "/api/v1/accounts/verify_credentials":
            return self.json(self.me)
        if path == "/api/v1/streaming/user/notification":
            return Response(self.events(), mimetype="text/event-stream")
        if path == "/api/v1/notifications":
            kinds = request.args.getlist("types[]")
            items = [n for n in self.notifications if not kinds or n["type"] in kinds]
            return self.page(request, items, default=40, most=80)
        if match := re.fullmatch(r"/api/v1/timelines/tag/(\w+)", path):
            tag = match.group(1).lower()
            items = [s for s in self.statuses.values()
                     if tag in [t["name"].lower() for t in s["tags"]]]
            return self.page(request, items, default=20, most=40)
        if path == "/api/v1/statuses" and method == "POST":
            answer = self.post_status(request)
            if path in self.lost:
                self.lost.remove(path)
                return self.json({}, 504)
            return answer
        if match := re.fullmatch(r"/api/v1/statuses/(\w+)(/source)?", path):
            status = self.statuses.get(match.group(1))
            if status is None:
                return self.json(fixture("errors")["404"], 404)
            if match.group(2):
                source = fixture("status_source")
                source.update(id=status["id"], text=status.get("text", ""),
                              spoiler_text=status["spoiler_text"])
                return self.json(source)
            if method == "DELETE":
                del self.statuses[status["id"]]
                return self.json({**status, "text": status.get("text", "")})
            return self.json(status)
        if match := re.fullmatch(r"/api/v1/accounts/(\w+)/statuses", path):
            items = [s for s in self.statuses.values() if s["account"]["id"] == match.group(1)]
            return self.page(request, items, default=20, most=40)
        if path == "/api/v2/search":
            q = request.args.get("q", "")
            found = [s for s in self.statuses.values() if s["uri"] == q]
            return self.json({"accounts": [], "statuses": found, "hashtags": []})
        return self.json(fixture("errors")["404"], 404)

    def events(self):
        # A heartbeat comment first, as the streaming server sends every 15 s.
        yield ":thump\n\n"
        while (event := self.stream.get()) is not None:
            name, payload = event
            yield f"event: {name}\ndata: {json.dumps(payload)}\n\n"

    def post_status(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key and key in self.idempotency:
            return self.json(self.statuses[self.idempotency[key]])
        form = request.form
        reply_to = form.get("in_reply_to_id")
        if reply_to and reply_to not in self.statuses:
            return self.json(fixture("errors")["404_reply"], 404)
        status = self.status(f"<p>{form['status']}</p>", author=self.me,
                             visibility=form.get("visibility", "public"), mentions=(),
                             in_reply_to=reply_to, spoiler=form.get("spoiler_text", ""),
                             at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"))
        status["text"] = form["status"]  # what the source endpoint gives back
        status["url"] = f"https://example.social/@care/{status['id']}"
        self.posted.append(status)
        if key:
            self.idempotency[key] = status["id"]
        return self.json(status)

    def page(self, request: Request, items: list[dict], default: int, most: int) -> Response:
        """A page as Mastodon pages: newest first; min_id reads forward from an id (the
        page just after it), since_id gives the newest after it, max_id the older."""
        def key(item):
            return int(item["id"])

        limit = min(int(request.args.get("limit", default)), most)
        items = sorted(items, key=key)
        if "max_id" in request.args:
            items = [i for i in items if key(i) < int(request.args["max_id"])]
        if "since_id" in request.args:
            items = [i for i in items if key(i) > int(request.args["since_id"])][-limit:]
        if "min_id" in request.args:
            items = [i for i in items if key(i) > int(request.args["min_id"])][:limit]
        items = list(reversed(items[-limit:]))
        headers = {}
        if items:
            args = [(k, v) for k, v in request.args.items(multi=True)
                    if k not in ("max_id", "min_id", "since_id")]
            url = f"{self.base}{request.path}?"
            older = urlencode(args + [("max_id", items[-1]["id"])])
            newer = urlencode(args + [("min_id", items[0]["id"])])
            headers["Link"] = f'<{url}{older}>; rel="next", <{url}{newer}>; rel="prev"'

        return self.json(items, headers=headers)

    @staticmethod
    def json(body, code: int = 200, headers=None) -> Response:
        return Response(json.dumps(body), status=code, headers=headers or {},
                        content_type="application/json; charset=utf-8")
