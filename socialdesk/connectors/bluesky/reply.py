"""Answering on Bluesky: a reply in the thread, or a chat message.

A reply is exactly-once: its record key is derived from the reply's idempotency
key, so every attempt writes the same record (at://<our DID>/app.bsky.feed.post/
<key>). A second attempt after the first was taken fails (the PDS refuses a
record that exists, so far with a 500), and the record is then looked up and
taken as the delivery; after a crash, find_delivered looks it up the same way.
"""

import hashlib
from datetime import UTC, datetime

from socialdesk.connectors.base import ConnectorError, Delivered, DeliveryError
from socialdesk.connectors.bluesky.listen import web_url

POST = "app.bsky.feed.post"
CHAT_PROXY = "did:web:api.bsky.chat"
_TID_CHARS = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable, atproto's TID syntax
# A TID is 64 bits: 0, 53 bits of microseconds since 1970, 10 bits of clock id.
# app.bsky.feed.post records must have TID keys; ours take their time from the
# hash too, placed in a fixed window in the past (2023) so that no key names a
# moment in the future to a service that reads times from keys.
_TID_EPOCH_US = 1_672_531_200_000_000
_TID_SPAN_US = 2**43  # about 100 days


def record_key(key: str) -> str:
    """The record key (a TID) of the reply with this idempotency key."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    micros = _TID_EPOCH_US + (digest >> 10) % _TID_SPAN_US
    value = micros << 10 | digest & 0x3FF
    return "".join(_TID_CHARS[value >> shift & 31] for shift in range(60, -1, -5))


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def find_post(bsky, key: str) -> Delivered | None:
    """Our reply with this idempotency key, as the PDS has it, or None."""
    rkey = record_key(key)
    try:
        found = bsky.call(lambda c: c.com.atproto.repo.get_record(params={
            "repo": bsky.did, "collection": POST, "rkey": rkey}))
    except ConnectorError as e:
        if e.xrpc == "RecordNotFound":
            return None
        raise
    return Delivered(found.uri, web_url(bsky.handle, found.uri))


def post_reply(bsky, outgoing) -> Delivered:
    parent_uri = outgoing.in_reply_to
    if not parent_uri.startswith("at://did:") or f"/{POST}/" not in parent_uri:
        raise DeliveryError(f"{parent_uri[:80]!r} is not a Bluesky post (an at:// URI)",
                            retryable=False)
    views = bsky.call(lambda c: c.app.bsky.feed.get_posts(params={"uris": [parent_uri]})).posts
    if not views:
        # Sent before, and deleted since? Then it was delivered after all.
        if outgoing.key and (found := find_post(bsky, outgoing.key)):
            return found
        raise DeliveryError("the post answered is no longer on Bluesky (its author deleted "
                            "it, or it is hidden from this account): nothing was sent",
                            retryable=False)
    parent = views[0]
    if parent.viewer and parent.viewer.reply_disabled:
        raise DeliveryError("the thread's author does not allow replies from this account "
                            "(a thread gate): nothing was sent", retryable=False)
    root = outgoing.context.get("root") or {}
    if not (root.get("uri") and root.get("cid")):
        ref = getattr(parent.record, "reply", None)
        root = ({"uri": ref.root.uri, "cid": ref.root.cid} if ref
                else {"uri": parent.uri, "cid": parent.cid})
    record = {"$type": POST, "text": outgoing.text, "createdAt": now_iso(),
              "reply": {"root": {"uri": root["uri"], "cid": root["cid"]},
                        "parent": {"uri": parent.uri, "cid": parent.cid}}}
    data = {"repo": bsky.did, "collection": POST, "record": record}
    if outgoing.key:
        data["rkey"] = record_key(outgoing.key)
    try:
        created = bsky.call(lambda c: c.com.atproto.repo.create_record(data=data))
    except ConnectorError as e:
        # An earlier attempt may have written it (a timeout after the PDS took it):
        # then this one is refused, and the record is the delivery.
        if e.kind == ConnectorError.RETRYABLE and outgoing.key:
            found = find_post(bsky, outgoing.key)
            if found:
                return found
        raise
    return Delivered(created.uri, web_url(bsky.handle, created.uri))


def send_chat(bsky, outgoing) -> Delivered:
    """A private reply as a Bluesky chat message, through the PDS's proxy to the
    chat service. Chat has no idempotency key: see find_delivered."""
    did = outgoing.context.get("author_did") or ""
    if not did.startswith("did:"):
        handle = outgoing.recipient.lstrip("@")
        did = bsky.call(lambda c: c.com.atproto.identity.resolve_handle(
            params={"handle": handle})).did
    chat = bsky.client.with_bsky_chat_proxy()
    convo = bsky.call(lambda c: chat.chat.bsky.convo.get_convo_for_members(
        params={"members": [did]})).convo
    sent = bsky.call(lambda c: chat.chat.bsky.convo.send_message(
        data={"convoId": convo.id, "message": {"text": outgoing.text}}))
    return Delivered(f"chat:{convo.id}:{sent.id}", f"https://bsky.app/messages/{convo.id}")

