"""Hearing posts: the account's notifications (mentions, replies, quotes) and, for
the keywords it listens for, Bluesky's post search; each post as an import record.

Both lists come newest first, a page at a time, each page with a cursor to the
next (older) one. A *sweep* pages back from the newest until it reaches what the
previous sweep had seen. The checkpoint of a list is

    {"seen": the newest indexedAt of the last finished sweep,
     "top": the newest indexedAt of the sweep under way,
     "cursor": where the sweep under way goes on}

so a fetch that is interrupted (the process dies before the posts are stored and
the checkpoint saved) starts that page again, and a sweep that needs many
fetches goes on where the last one stopped; posts that come meanwhile are newer
than "top" and are for the next sweep. Only a finished sweep moves "seen" up to
its "top". A sweep stops at posts older than "seen" less OVERLAP rather than at
"seen" itself: an item can be listed late, with a time a little before the newest
already seen (a post's time is partly its author's clock), and posts fetched
twice are stored once.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from socialdesk.connectors.base import ConnectorError
from socialdesk.ingestion.records import RecordError, check_record

OVERLAP = timedelta(minutes=5)
# How far back an account's first fetch looks, unless config.backfill_hours says.
BACKFILL = timedelta(hours=24)
REASONS = ("mention", "reply", "quote")
PAGE_MAX = 100  # the lexicons' most for listNotifications and searchPosts


@dataclass
class Page:
    items: list[dict]  # notifications or post views, as the lexicons define them
    cursor: str | None


def when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def sweep(state: dict | None, load, start: datetime) -> tuple[list[dict], dict, bool]:
    """One page of a list: its items not seen before, the list's next checkpoint,
    and whether the sweep goes on."""
    state = dict(state or {"seen": start.isoformat()})
    page = load(state.get("cursor") or None)
    stamps = [item["indexedAt"] for item in page.items]
    if not state.get("cursor"):
        state["top"] = max(stamps + [state["seen"]], key=when)
    else:
        state["top"] = max(stamps + [state["top"]], key=when)
    floor = when(state["seen"]) - OVERLAP
    new = []
    for item in page.items:
        if when(item["indexedAt"]) < floor:
            return new, {"seen": state["top"]}, False
        new.append(item)
    if not page.cursor or not page.items:
        return new, {"seen": state["top"]}, False
    return new, {"seen": state["seen"], "top": state["top"], "cursor": page.cursor}, True


def keywords_of(account) -> list[str]:
    keywords = account.config.get("keywords") or []
    if isinstance(keywords, str):
        keywords = [k.strip() for k in keywords.split(",")]
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise ConnectorError("config.keywords must be a list of search terms, such as "
                             '["kettleco", "kettle co"]', ConnectorError.PERMANENT)
    return [k.strip() for k in keywords if k.strip()]


def start_of(account) -> datetime:
    hours = account.config.get("backfill_hours")
    if hours is None:
        return timezone.now() - BACKFILL
    if isinstance(hours, bool) or not isinstance(hours, int | float) or hours < 0:
        raise ConnectorError(f"config.backfill_hours must be a number of hours, not {hours!r}",
                             ConnectorError.PERMANENT)
    return timezone.now() - timedelta(hours=hours)


def as_dict(model) -> dict:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def notifications(bsky, limit: int):
    def load(cursor):
        found = bsky.call(lambda c: c.app.bsky.notification.list_notifications(params={
            "limit": limit, "cursor": cursor, "reasons": list(REASONS)}))
        return Page([as_dict(n) for n in found.notifications
                     if n.reason in REASONS], found.cursor)
    return load


def search(bsky, query: str, limit: int):
    def load(cursor):
        found = bsky.call(lambda c: c.app.bsky.feed.search_posts(params={
            "q": query, "sort": "latest", "limit": limit, "cursor": cursor}))
        return Page([as_dict(p) for p in found.posts], found.cursor)
    return load


def web_url(author: str, uri: str) -> str:
    return f"https://bsky.app/profile/{author}/post/{uri.rsplit('/', 1)[-1]}"


def record_of(item: dict) -> dict:
    """A notification or post view as a record of the import schema. `extra` keeps
    what a reply needs: the post's CID, its thread's root, its author's DID."""
    post, author = item.get("record") or {}, item.get("author") or {}
    handle = author.get("handle") or ""
    # A handle that no longer resolves to its DID is shown as handle.invalid.
    name = author.get("did", "") if handle in ("", "handle.invalid") else handle
    reply = post.get("reply") or {}
    root = reply.get("root") or {"uri": item.get("uri"), "cid": item.get("cid")}
    return {
        "channel": "bluesky", "external_id": item.get("uri"), "author": name,
        "author_name": author.get("displayName") or "", "author_avatar": author.get("avatar"),
        "text": post.get("text"), "created_at": post.get("createdAt"),
        "url": web_url(name, item.get("uri") or ""), "lang": (post.get("langs") or [""])[0],
        "visibility": "public", "in_reply_to": (reply.get("parent") or {}).get("uri", ""),
        "cid": item.get("cid"), "root": {"uri": root.get("uri"), "cid": root.get("cid")},
        "author_did": author.get("did"), "reason": item.get("reason", "search"),
    }


def records_of(items: list[dict], own_did: str) -> tuple[list, list[tuple[str, str]]]:
    records, rejected, seen = [], [], set()
    for item in items:
        uri = item.get("uri") or "?"
        if uri in seen or (item.get("author") or {}).get("did") == own_did:
            continue  # heard twice in one fetch, or the brand's own post
        seen.add(uri)
        data = {k: v for k, v in record_of(item).items() if v is not None}
        try:
            records.append(check_record(data, settings.MAX_POST_CHARS))
        except RecordError as e:
            rejected.append((uri, str(e)))
    return records, rejected
