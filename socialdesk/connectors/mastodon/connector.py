"""The Mastodon connector: hears an account's mentions (direct messages are
mentions too) and the hashtags it follows, and posts the desk's replies.

Settings (`config`): `api_base_url`, the server (https://mastodon.social), and
optionally `hashtags`, a list of tags to listen to, and `max_characters`, the
server's status limit where it allows more than Mastodon's 500. Secret: the
account's `access_token`. The handle is "user@domain".

Each stream keeps its own position in the checkpoint ({"mentions": notification
id, "tags": {tag: status id}}) and is read forward from it with `min_id`: the
page just after the position, so a burst of posts is read page by page, oldest
first, with nothing skipped. A stream read for the first time starts from its
latest page; older history is not fetched.
"""

import re
import threading
from contextlib import contextmanager

from django.conf import settings
from mastodon import MastodonAPIError, MastodonError, MastodonNotFoundError, StreamListener

from socialdesk.connectors.base import ConnectorError, Delivered, DeliveryError, Fetched, Setting
from socialdesk.connectors.channels.mastodon import CHANNEL
from socialdesk.connectors.mastodon import statuses
from socialdesk.connectors.mastodon.client import Server, calls, connect, said, status_code
from socialdesk.ingestion.records import RecordError, check_record

# The most a page may hold: notifications take up to 80, tag timelines 40.
PAGE = 40
MAX_TAGS = 20  # each is one request a fetch, within the server's 300 per 5 minutes
TAG = re.compile(r"\w{1,100}")
# Pages of the account's own statuses find_delivered reads: a reply found after a
# crash is minutes old.
OWN_PAGES = 3
# Seconds without a byte from the streaming server before the stream is taken for
# dead (Mastodon sends a heartbeat every 15 s), and how often a watch looks up.
STREAM_TIMEOUT = 60
STREAM_CHECK_SECONDS = 1.0


class MastodonConnector:
    name = "mastodon"
    label = "A Mastodon account"
    channels = ("mastodon",)
    settings = (
        Setting("api_base_url", "Server", "The account's server, such as "
                "https://mastodon.social"),
        Setting("access_token", "Access token", "From the server's Preferences → "
                "Development → New application, with the read and write scopes", secret=True),
        Setting("hashtags", "Hashtags to listen to", "Comma-separated, without the #",
                required=False, kind="list"),
        Setting("max_characters", "Longest post the server allows", "Leave empty for "
                "Mastodon's 500", required=False, kind="number"),
    )

    def check(self, account) -> str:
        server = connect(account)
        with calls(server) as client:
            me = client.account_verify_credentials()
        handle = server.full(me.get("acct") or me.get("username") or "")
        if "@" in server.handle and handle.lower() != server.handle:
            raise ConnectorError(f"the access token signs in as @{handle}, not @{server.handle} "
                                 "as the account's handle says", ConnectorError.PERMANENT)
        return f"signed in as @{handle} ({me.get('display_name') or me.get('username')})"

    def fetch(self, account, checkpoint: dict, limit: int) -> Fetched:
        server = connect(account)
        tags = hashtags(account.config)
        size = max(1, min(limit, PAGE))
        found = Fetched(records=[], checkpoint={})
        checkpoint = checkpoint if isinstance(checkpoint, dict) else {}
        with calls(server) as client:
            since = checkpoint.get("mentions")
            page = client.notifications(types=["mention"], min_id=since, limit=size)
            self._add(found, server, [n.get("status") for n in page
                                      if n.get("type") == "mention"], "mention")
            found.checkpoint["mentions"] = _position(client, page, since)
            found.more |= bool(since) and len(page) >= size
            positions, read = {}, checkpoint.get("tags")
            for tag in tags:
                since = read.get(tag) if isinstance(read, dict) else None
                page = client.timeline_hashtag(tag, min_id=since, limit=size)
                self._add(found, server, list(page), f"#{tag}")
                positions[tag] = _position(client, page, since)
                found.more |= bool(since) and len(page) >= size
        found.checkpoint = {k: v for k, v in found.checkpoint.items() if v}
        if positions := {k: v for k, v in positions.items() if v}:
            found.checkpoint["tags"] = positions
        return found

    watched_by = "as soon as the server streams a mention or direct message"

    def watch(self, account, stopping, woke) -> None:
        """The server's notification stream (GET /api/v1/streaming/user/notification):
        `woke()` at each mention, direct messages included. Hashtags are heard by
        the polls. The stream is read in a thread of its own, which ends with the
        connection (at the latest STREAM_TIMEOUT after a stop); `woke()` is called
        from this one, as every watch calls it."""
        server = connect(account)
        with calls(server) as client:
            client.account_verify_credentials()  # a refused token says so here, and how
        news = _Mentions()

        def read():
            try:
                client.stream_user_notifications(news, timeout=STREAM_TIMEOUT)
            except MastodonError as e:
                news.error = e

        reader = threading.Thread(target=read, name=f"{threading.current_thread().name}-stream",
                                  daemon=True)
        reader.start()
        woke()
        while not stopping.wait(STREAM_CHECK_SECONDS):
            if news.heard.is_set():
                news.heard.clear()
                woke()
            if not reader.is_alive():
                raise ConnectorError(f"{server.host} ended the notification stream"
                                     + (f": {news.error}" if news.error else ""))

    def _add(self, found: Fetched, server: Server, page: list, heard_as: str) -> None:
        # Pages come newest first: stored oldest first, as they were posted.
        for status in reversed(page):
            if not isinstance(status, dict):
                continue  # a mention whose status is gone
            where = f"{heard_as} status {str(status.get('id'))[:40]}"
            try:
                data = statuses.record_for(status, server, heard_as)
                if data["author"].lower() == server.handle:
                    data["direction"] = "outbound"  # ours, seen under a hashtag
                found.records.append(check_record(data, settings.MAX_POST_CHARS))
            except (RecordError, AttributeError, TypeError, ValueError) as e:
                found.rejected.append((where, str(e) or type(e).__name__))

    def deliver(self, account, outgoing) -> Delivered:
        with _as_delivery():
            server = connect(account)
            with calls(server) as client:
                status_id = local_id(client, server, outgoing)
                text, visibility, spoiler = compose(server, outgoing)
                _check_length(account, server, text, spoiler)
                try:
                    # The key makes a retried attempt return the status the first
                    # one posted instead of posting it twice.
                    status = client.status_post(text, in_reply_to_id=status_id,
                                                visibility=visibility,
                                                spoiler_text=spoiler or None,
                                                idempotency_key=outgoing.key or None)
                except MastodonNotFoundError as e:
                    raise DeliveryError(f"the status this replies to is gone from {server.host} "
                                        "(deleted, or no longer visible to this account): "
                                        f"{said(server, e)}", retryable=False) from e
        return Delivered(statuses.external_id(server.host, status["id"]), status.get("url") or "")

    def find_delivered(self, account, outgoing) -> Delivered | None:
        """The reply, if the account posted it: one of its latest statuses that
        answers the same status with exactly the text `deliver` posts.

        Mastodon cannot be asked about an idempotency key; it only remembers one for
        an hour, and posting again with it is the only way to use it, which would
        post the reply if it was never sent. So this reads the account's own
        statuses instead (the sweeper asks within minutes of a crash), and compares
        each candidate's source text (GET /api/v1/statuses/:id/source)."""
        with _as_delivery():
            server = connect(account)
            with calls(server) as client:
                status_id = local_id(client, server, outgoing)
                text = compose(server, outgoing)[0]
                me = client.account_verify_credentials()
                page = client.account_statuses(me["id"], limit=PAGE)
                for _ in range(OWN_PAGES):
                    for status in page or []:
                        if str(status.get("in_reply_to_id")) == str(status_id) and \
                                client.status_source(status["id"]).get("text") == text:
                            return Delivered(statuses.external_id(server.host, status["id"]),
                                             status.get("url") or "")
                    page = client.fetch_next(page) if page else None
        return None

    def moderate(self, account, action: str, channel: str, external_id: str) -> None:
        """Mastodon lets the brand delete its own statuses, not hide anyone's."""
        if action != "delete":
            raise DeliveryError(f"Mastodon has no way to {action} a status", retryable=False)
        self.delete(account, external_id)

    def delete(self, account, external_id: str) -> None:
        """Delete one of the account's own statuses; one already gone is deleted."""
        with _as_delivery():
            server = connect(account)
            host, _, status_id = str(external_id).rpartition(":")
            if host != server.host or not statuses.ID.fullmatch(status_id):
                raise DeliveryError(f"{str(external_id)[:80]!r} is not a status on {server.host}",
                                    retryable=False)
            with calls(server) as client:
                try:
                    client.status_delete(status_id)
                except MastodonNotFoundError:
                    return
                except MastodonAPIError as e:
                    if status_code(e) != 403:
                        raise
                    raise DeliveryError(f"{server.host} does not allow deleting it: "
                                        f"{said(server, e)}", retryable=False) from e


def hashtags(config) -> list[str]:
    """The account's hashtags to listen to, checked."""
    config = config if isinstance(config, dict) else {}
    if config.get("keywords"):
        raise ConnectorError(
            "config.keywords is not supported on Mastodon: its search finds only posts "
            "whose authors opted in, ranked rather than in order, and not on every server; "
            "listen to hashtags (config.hashtags) instead", ConnectorError.PERMANENT)
    tags = config.get("hashtags") or []
    if not isinstance(tags, list) or len(tags) > MAX_TAGS or not all(
            isinstance(t, str) and TAG.fullmatch(t.lstrip("#")) for t in tags):
        raise ConnectorError(f"config.hashtags must be a list of up to {MAX_TAGS} hashtags, "
                             f"such as [\"kettleco\"], not {str(tags)[:80]}",
                             ConnectorError.PERMANENT)
    return list(dict.fromkeys(t.lstrip("#").lower() for t in tags))


def _position(client, page, since) -> str | None:
    """Where the stream stands after this page: the `min_id` of the Link header's
    "prev" page (the newest item read), as Mastodon says to paginate."""
    prev = client.get_pagination_info(page, "previous") if page else None
    if prev and prev.get("min_id"):
        return str(prev["min_id"])
    ids = [str(item.get("id")) for item in page or [] if item.get("id") is not None]
    return max(ids, key=lambda i: (len(i), i)) if ids else (str(since) if since else None)


def local_id(client, server: Server, outgoing) -> str:
    """The replied-to status' id on the account's server: from its external id, or,
    for a post heard elsewhere, by asking the server to resolve its uri."""
    host, _, status_id = outgoing.in_reply_to.rpartition(":")
    if host == server.host and statuses.ID.fullmatch(status_id):
        return status_id
    uri = outgoing.context.get("uri") or outgoing.in_reply_to
    if isinstance(uri, str) and uri.startswith("https://"):
        # exclude_unreviewed concerns hashtags; left True, Mastodon.py first asks the
        # server's version, and loops without end where /api/v1/instance fails.
        found = client.search_v2(uri, resolve=True, result_type="statuses",
                                 exclude_unreviewed=False)
        for status in found.get("statuses") or []:
            return str(status["id"])
    raise DeliveryError(f"cannot find the status this replies to on {server.host}: post "
                        f"{outgoing.in_reply_to[:80]!r} was not heard through this server and "
                        "has no address it can look up", retryable=False)


def compose(server: Server, outgoing) -> tuple[str, str, str]:
    """The status' text, visibility and content warning."""
    context = outgoing.context if isinstance(outgoing.context, dict) else {}
    text = statuses.reply_text(outgoing.text, outgoing.recipient, outgoing.visibility, context,
                               server.handle, server.domain)
    spoiler = context.get("spoiler_text") if isinstance(context.get("spoiler_text"), str) else ""
    return text, statuses.reply_visibility(outgoing.visibility, context), spoiler


def _check_length(account, server: Server, text: str, spoiler: str) -> None:
    most = account.config.get("max_characters") or CHANNEL.public_limit
    counted = statuses.length(text, spoiler)
    if isinstance(most, int) and counted > most:
        raise DeliveryError(f"the reply counts {counted} characters with its mentions and "
                            f"content warning; {server.host} takes {most}: shorten it",
                            retryable=False)


@contextmanager
def _as_delivery():
    try:
        yield
    except ConnectorError as e:
        raise DeliveryError(str(e), retryable=e.kind == ConnectorError.RETRYABLE,
                            retry_after=e.retry_after) from e


class _Mentions(StreamListener):
    """Notes each mention in the notification stream, for the watch to act on."""

    def __init__(self):
        self.heard, self.error = threading.Event(), None

    def on_notification(self, notification) -> None:
        if notification.get("type") == "mention":
            self.heard.set()

    def on_unknown_event(self, name, unknown_event=None) -> None:
        pass  # events of newer servers: nothing the desk listens for
