"""Mastodon statuses as the desk's records, and the desk's replies as statuses.

External ids: a status is stored as "<api host>:<status id>", the id the server the
account uses gives it. A status' `uri` is the same on every server, but the
thread references Mastodon gives (`in_reply_to_id`) are ids local to the server
that answers, so threading by uri would cost a lookup per reply. The local id,
qualified by the host so that two servers' ids never meet, threads with no
lookup: a customer's answer to one of our replies names our status' local id,
which is what our reply was stored under. The uri is kept in `extra` so a reply
can still find the status through another server (connector.local_id).
"""

import re
from html.parser import HTMLParser

from mastodon import Mastodon

ID = re.compile(r"[A-Za-z0-9]{1,40}")  # Mastodon's are digits; Pleroma's base62
HANDLE = re.compile(r"[\w.-]+@[\w-]+(?:\.[\w-]+)*(?::\d+)?")
# What a text may not keep: control characters (NUL included) and lone surrogates,
# which no database stores; line breaks and tabs stay.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# How much wider each visibility is than the next (docs.joinmastodon.org/entities/Status).
WIDTH = {"direct": 0, "private": 1, "unlisted": 2, "public": 3}


def external_id(host: str, status_id) -> str:
    return f"{host}:{status_id}"


class _Text(HTMLParser):
    """The text a reader sees in a status' HTML: tags dropped, entities decoded,
    <br> and paragraphs kept as line breaks, scripts and styles left out."""

    SKIP = {"script", "style", "template", "head", "title", "noscript", "iframe", "object"}
    BLOCKS = {"p", "div", "li", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4",
              "h5", "h6", "table", "tr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if not self.skipping:
            # As a browser shows it: a line break in the HTML source is a space.
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html or "")
    parser.close()
    text = _UNSAFE.sub("", "".join(parser.parts)).replace("\u00a0", " ")
    lines = [re.sub(r" {2,}", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _text_of(status) -> str:
    text = html_to_text(status.get("content") or "")
    if text:
        return text
    # A status of media alone: say what it holds, so that it can still be read.
    kinds = [m.get("type") or "media" for m in status.get("media_attachments") or []]
    return f"[{', '.join(kinds)}]" if kinds else ""


def _when(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value or "")


def record_for(status, server, heard_as: str) -> dict:
    """A status as a record in the import schema (docs/IMPORT.md); what a reply will
    need (local id, uri, visibility, participants, content warning) goes to extra."""
    author = status.get("account") or {}
    followers = author.get("followers_count")
    in_reply_to = status.get("in_reply_to_id")
    visibility = str(status.get("visibility") or "")
    record = {
        "channel": "mastodon",
        "external_id": external_id(server.host, status.get("id")),
        "author": server.full(author.get("acct", "")),
        "author_name": author.get("display_name") or "",
        "author_avatar": author.get("avatar") or "",
        "author_followers": followers if isinstance(followers, int) and followers >= 0 else None,
        "text": _text_of(status),
        "created_at": _when(status.get("created_at")),
        "url": status.get("url") or "",
        "lang": status.get("language") or "",
        "visibility": "private" if visibility == "direct" else "public",
        "in_reply_to": external_id(server.host, in_reply_to) if in_reply_to else "",
        # Outside the schema: kept with the post, and given back to its reply.
        "status_id": str(status.get("id")),
        "uri": status.get("uri") or "",
        "mastodon_visibility": visibility,
        "mentions": [server.full(m.get("acct", "")) for m in status.get("mentions") or []],
        "heard_as": heard_as,
    }
    if status.get("spoiler_text"):
        record["spoiler_text"] = status["spoiler_text"]
    return record


def reply_visibility(visibility: str, context: dict) -> str:
    """A private reply is direct. A public one keeps the original's visibility, never
    wider: a followers-only or direct conversation is answered directly, and a post
    whose visibility the desk never saw (an import) gets unlisted, which still
    threads but stays off the public timelines."""
    if visibility == "private":
        return "direct"
    original = context.get("mastodon_visibility")
    if original is None:
        return "unlisted"
    return original if original in ("public", "unlisted") else "direct"


def _mentions(text: str, handle: str, local_domain: str) -> bool:
    user, _, domain = handle.partition("@")
    forms = [re.escape(handle)]
    if domain == local_domain:
        forms.append(re.escape(user))  # "@user" reaches a local account too
    return re.search(rf"(?<![\w@/])@(?:{'|'.join(forms)})(?![\w@-]|\.\w)", text,
                     re.IGNORECASE) is not None


def reply_text(text: str, recipient: str, visibility: str, context: dict, own: str,
               local_domain: str) -> str:
    """The reply as posted: preceded by the mentions it needs. Mastodon delivers a
    reply to those it mentions, so the author is always mentioned; the post's other
    participants are kept in public replies and in a direct conversation, never
    when a public post is answered privately (that would tell them)."""
    people = [recipient]
    if visibility == "public" or context.get("mastodon_visibility") == "direct":
        people += [m for m in context.get("mentions") or [] if isinstance(m, str)]
    seen, needed = {own.lower()}, []
    for person in people:
        person = person.lstrip("@")
        if "@" not in person:
            person = f"{person}@{local_domain}"
        if person.lower() in seen or not HANDLE.fullmatch(person):
            continue
        seen.add(person.lower())
        if not _mentions(text, person, local_domain):
            needed.append(f"@{person}")
    return " ".join([*needed, text]) if needed else text


def length(text: str, spoiler_text: str = "") -> int:
    """Characters as Mastodon counts them: a link is 23, a mention its local part."""
    return Mastodon.get_status_length(text, spoiler_text)
