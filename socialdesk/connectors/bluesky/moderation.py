"""Hiding a reply: the author of a thread may hide replies in it, listing them in
the thread's gate (an app.bsky.feed.threadgate record whose key is the root
post's, field hiddenReplies). Bluesky then shows them only behind a warning."""

from socialdesk.connectors.base import ConnectorError
from socialdesk.connectors.bluesky.listen import as_dict
from socialdesk.connectors.bluesky.reply import now_iso

GATE = "app.bsky.feed.threadgate"
MOST_HIDDEN = 300  # app.bsky.feed.threadgate's maxLength for hiddenReplies


def set_hidden(bsky, uri: str, hidden: bool) -> None:
    views = bsky.call(lambda c: c.app.bsky.feed.get_posts(params={"uris": [uri]})).posts
    ref = getattr(views[0].record, "reply", None) if views else None
    if ref is None:
        raise ConnectorError(f"{uri} is not a reply on Bluesky (any more)",
                             ConnectorError.PERMANENT)
    root = ref.root.uri
    if not root.startswith(f"at://{bsky.did}/"):
        raise ConnectorError("only replies in the brand's own threads can be hidden",
                             ConnectorError.PERMANENT)
    rkey = root.rsplit("/", 1)[-1]
    try:
        found = bsky.call(lambda c: c.com.atproto.repo.get_record(params={
            "repo": bsky.did, "collection": GATE, "rkey": rkey}))
        gate, swap = as_dict(found.value), found.cid
    except ConnectorError as e:
        if e.xrpc != "RecordNotFound":
            raise
        # No gate yet: one that only hides (without "allow", anyone may still reply).
        gate, swap = {"$type": GATE, "post": root, "createdAt": now_iso()}, None
    listed = [u for u in gate.get("hiddenReplies", []) if u != uri]
    gate["hiddenReplies"] = listed + [uri] if hidden else listed
    if len(gate["hiddenReplies"]) > MOST_HIDDEN:
        raise ConnectorError(f"a thread can hide at most {MOST_HIDDEN} replies",
                             ConnectorError.PERMANENT)
    data = {"repo": bsky.did, "collection": GATE, "rkey": rkey, "record": gate}
    if swap:
        data["swapRecord"] = swap  # refused if the gate changed meanwhile: try again
    bsky.call(lambda c: c.com.atproto.repo.put_record(data=data))


def delete_own(bsky, uri: str) -> None:
    """Delete one of the brand's posts. Deleting a record that is gone already
    succeeds: the repository simply has no such record."""
    prefix = f"at://{bsky.did}/app.bsky.feed.post/"
    if not uri.startswith(prefix):
        raise ConnectorError("only the brand's own posts can be deleted",
                             ConnectorError.PERMANENT)
    bsky.call(lambda c: c.com.atproto.repo.delete_record(data={
        "repo": bsky.did, "collection": "app.bsky.feed.post", "rkey": uri[len(prefix):]}))
