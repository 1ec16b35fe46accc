"""One mail message as a record in the import schema (docs/IMPORT.md), or the reason
it is not a post.

The message's Message-ID is the post's external id, so a message fetched twice
is stored once, and a customer's answer (In-Reply-To: one of our replies, or
their own earlier message) joins the case the desk already has.
"""

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.parser import HeaderParser
from email.utils import getaddresses

from socialdesk.connectors.email.text import html_to_text, strip_quotes
from socialdesk.ingestion.records import EARLIEST, FUTURE_TOLERANCE

MAX_ID = 255  # what a post's external id and in_reply_to hold
MAX_REFERENCES = 50
_ID_JUNK = re.compile(r"[\s<>\x00-\x1f\x7f]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Senders that are machines whatever their headers say (bounces, RFC 3834 §2).
_MACHINES = ("mailer-daemon@", "postmaster@")


class NotAPost(Exception):
    """A message the desk does not take as a customer's post, and why."""


def message_id(value: str) -> str:
    """A Message-ID as the desk stores it: the first <…> (or the value), without
    brackets and spaces. One too long for a post's id becomes a hash of itself, the
    same wherever it appears (Message-ID, In-Reply-To, References)."""
    value = str(value or "")
    bracketed = re.search(r"<([^<>]*)>", value)
    found = _ID_JUNK.sub("", bracketed.group(1) if bracketed else value)
    if len(found) > MAX_ID:
        return "sha256-" + hashlib.sha256(found.encode()).hexdigest() + "@long-message-id"
    return found


def references(value: str) -> list[str]:
    found = [message_id(m) for m in re.findall(r"<[^<>]*>", str(value or ""))]
    return [m for m in found if m][-MAX_REFERENCES:]


def fallback_id(uidvalidity: int, uid: int, folder: str, host: str) -> str:
    """For a message without a Message-ID: stable while the folder keeps its
    UIDVALIDITY. Should the server renumber the folder, such a message comes
    back once more under a new id (a rare duplicate post, never a lost one)."""
    slug = re.sub(r"[^A-Za-z0-9._-]", "_", folder)[:40]
    folder_hash = hashlib.sha256(folder.encode()).hexdigest()[:8]
    return f"imap.{uidvalidity}.{uid}.{slug}.{folder_hash}@{host}"[:MAX_ID]


def automated(message) -> str:
    """Why a message was sent by a machine (auto-reply, bounce, bulk mail), or ""."""
    headers = message.obj
    submitted = str(headers.get("Auto-Submitted", "")).strip().lower()
    if submitted and submitted != "no":
        return f"Auto-Submitted: {submitted[:40]}"
    precedence = str(headers.get("Precedence", "")).strip().lower()
    # Not "list", nor List-Id or List-Unsubscribe: a support address that is a
    # mailing list or group (a Google Group, say) adds them to every customer's mail.
    if precedence in ("bulk", "junk", "auto_reply"):
        return f"Precedence: {precedence}"
    for header in ("X-Autoreply", "X-Autorespond"):
        if headers.get(header) is not None:
            return f"{header} header"
    if message.from_.lower().startswith(_MACHINES):
        return f"sent by {message.from_.lower()[:60]}"
    if str(headers.get("Return-Path", "x")).strip() == "<>":
        return "null Return-Path (a bounce or an automatic reply)"
    if headers.get_content_type() == "multipart/report":
        return "a delivery or read report"
    return ""


def bounce_of(message) -> tuple[str, str] | None:
    """For a delivery report (RFC 3464) saying a message could not be delivered:
    the Message-ID of that message and the reason, in the reporting server's
    words. None for any other message, a report of a delay or a success included."""
    report = message.obj
    if report.get_content_type() != "multipart/report" or \
            str(report.get_param("report-type", "")).lower() != "delivery-status":
        return None
    failed, original = [], ""
    for part in report.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            for fields in part.get_payload()[1:]:  # the first block is the report's own
                if str(fields.get("Action", "")).strip().lower() == "failed":
                    failed.append(tuple(" ".join(str(fields.get(name, "")).split()) for name
                                        in ("Final-Recipient", "Status", "Diagnostic-Code")))
        elif kind in ("message/rfc822", "message/rfc822-headers") and not original:
            inner = part.get_payload(0) if part.is_multipart() else None
            original = message_id(inner.get("Message-ID", "")) if inner is not None else ""
        elif kind == "text/rfc822-headers" and not original:
            headers = HeaderParser().parsestr(part.get_payload(decode=True).decode(
                part.get_content_charset() or "utf-8", errors="replace"))
            original = message_id(headers.get("Message-ID", ""))
    if not failed or not original:
        return None
    reasons = ["; ".join(x for x in (recipient.split(";")[-1].strip(), status, diagnostic) if x)
               for recipient, status, diagnostic in failed]
    return original, " | ".join(reasons)[:1000]


def reply_to(message, sender: str) -> str:
    """The one address a Reply-To header asks answers to go to, where it differs
    from the sender's (RFC 5322 §3.6.2); "" for none, or for several."""
    found = [a.strip().lower() for _, a in getaddresses(message.obj.get_all("Reply-To", []))
             if a and a.strip()]
    if len(found) != 1 or found[0] == sender or not _EMAIL.fullmatch(found[0]) \
            or len(found[0]) > 254:
        return ""
    return found[0]


def body_text(message) -> str:
    text = message.text
    if not text.strip() and message.html:
        text = html_to_text(message.html)
    return strip_quotes(text)


def sent_at(message, arrived: Callable[[], datetime | None]) -> datetime:
    """The Date header; the server's arrival time for a message without a usable
    one (none, no UTC offset, before 1990 or days ahead: a wrong clock)."""
    date = message.date
    now = datetime.now(UTC)
    if date.tzinfo is not None and EARLIEST <= date <= now + FUTURE_TOLERANCE:
        return date
    internal_date = arrived()
    if internal_date is None:
        raise NotAPost(f"no usable Date header ({message.date_str[:40]!r}) "
                       "and no arrival time from the server")
    return internal_date


def to_record(message, *, external_id: str, arrived: Callable[[], datetime | None],
              max_chars: int, uid: int, folder: str, own_address: str) -> dict:
    """The record for `message` (an imap_tools MailMessage); NotAPost saying why not.
    `arrived` asks the server when the message arrived, for one without a usable Date."""
    why = automated(message)
    if why:
        raise NotAPost(f"automated mail ({why}): not a customer's message, not answered")
    sender = message.from_values
    if sender is None or not sender.email:
        raise NotAPost("no From address")
    address = sender.email.strip().lower()
    if address == own_address.lower():
        # A copy of the brand's own mail (a Cc or Bcc to itself): not a customer.
        raise NotAPost(f"sent from this mailbox's own address ({address})")
    subject = " ".join(message.subject.split())
    body = body_text(message)
    text = f"{subject}\n\n{body}".strip() if subject else body
    truncated = len(text) > max_chars
    if truncated:
        text = text[:max_chars - 1] + "…"
    refs = references(message.obj.get("References", ""))
    in_reply_to = message_id(message.obj.get("In-Reply-To", "")) or (refs[-1] if refs else "")
    record = {
        "channel": "email", "external_id": external_id, "author": address,
        "author_name": sender.name[:255], "text": text,
        "created_at": sent_at(message, arrived).isoformat(), "visibility": "private",
        "in_reply_to": in_reply_to, "subject": subject[:998], "references": refs,
        "attachments": [{"name": a.filename[:255], "type": a.content_type[:100],
                         "size": a.size} for a in message.attachments],
        "mailbox": {"folder": folder, "uid": uid},
    }
    if _EMAIL.fullmatch(address) and len(address) <= 254:
        record["author_email"] = address
    if answer_to := reply_to(message, address):
        record["reply_to"] = answer_to
    if truncated:
        record["truncated"] = True
    return record
