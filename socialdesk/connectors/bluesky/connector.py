"""The Bluesky connector: one account on a PDS (bsky.social or the brand's own),
signed in with an app password. See docs/CONNECTORS.md, "Bluesky"."""

from socialdesk.connectors.base import ConnectorError, Delivered, DeliveryError, Fetched, Setting
from socialdesk.connectors.bluesky import listen, moderation, reply
from socialdesk.connectors.bluesky.session import Bluesky


def delivery_error(error: ConnectorError) -> DeliveryError:
    return DeliveryError(str(error), retryable=error.kind == ConnectorError.RETRYABLE,
                         retry_after=error.retry_after)


class BlueskyConnector:
    name = "bluesky"
    label = "A Bluesky account"
    channels = ("bluesky",)
    settings = (
        Setting("service", "Server", "The account's PDS; empty for bsky.social",
                required=False),
        Setting("app_password", "App password", "Settings → Privacy and security → App "
                "passwords; allow direct messages for private replies. Never the account's "
                "own password", secret=True),
        Setting("keywords", "Keywords to listen for", "Comma-separated search terms",
                required=False, kind="list"),
        Setting("backfill_hours", "Hours to look back at first", required=False,
                kind="number"),
    )

    def check(self, account) -> str:
        bsky = Bluesky(account, fresh=True)
        said = f"signed in as @{bsky.handle} ({bsky.did})"
        keywords = listen.keywords_of(account)
        if keywords:
            said += "; listening for " + ", ".join(repr(k) for k in keywords)
        return said

    def fetch(self, account, checkpoint: dict, limit: int) -> Fetched:
        bsky = Bluesky(account)
        size = max(1, min(limit, listen.PAGE_MAX))
        start = listen.start_of(account)
        items, state, more = listen.sweep(checkpoint.get("notifications"),
                                          listen.notifications(bsky, size), start)
        done = {"notifications": state, "search": {}}
        searches = checkpoint.get("search") or {}
        for keyword in listen.keywords_of(account):
            found, done["search"][keyword], going_on = listen.sweep(
                searches.get(keyword), listen.search(bsky, keyword, size), start)
            items += found
            more = more or going_on
        records, rejected = listen.records_of(items, bsky.did)
        return Fetched(records, done, rejected, more)

    def deliver(self, account, outgoing) -> Delivered:
        try:
            bsky = Bluesky(account)
            if outgoing.visibility == "private":
                return reply.send_chat(bsky, outgoing)
            return reply.post_reply(bsky, outgoing)
        except ConnectorError as e:
            raise delivery_error(e) from None

    def find_delivered(self, account, outgoing) -> Delivered | None:
        if outgoing.visibility == "private" or not outgoing.key:
            # A chat message carries no key of ours to find it by: a person looks.
            raise DeliveryError("a Bluesky chat message cannot be looked up by its key")
        try:
            return reply.find_post(Bluesky(account), outgoing.key)
        except ConnectorError as e:
            raise delivery_error(e) from None

    def moderate(self, account, action: str, channel: str, external_id: str) -> None:
        """Hide or show again a reply in the brand's thread; delete the brand's post."""
        try:
            bsky = Bluesky(account)
            if action == "delete":
                moderation.delete_own(bsky, external_id)
            else:
                moderation.set_hidden(bsky, external_id, action == "hide")
        except ConnectorError as e:
            raise delivery_error(e) from None
