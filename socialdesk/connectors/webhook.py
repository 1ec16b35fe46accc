"""The signed webhook: listening tools and in-house systems send posts to
`POST /api/v1/hooks/<slug>/posts`, in the batch API's schema.

Each source has its own secret. A request carries the time it was signed and
the signature of that time and the body:

    X-Socialdesk-Timestamp: 1765108800
    X-Socialdesk-Signature: v1=<hex HMAC-SHA256 of "1765108800." + body, keyed by the secret>

The desk refuses a signature that does not match, a timestamp more than
WEBHOOK_TOLERANCE_SECONDS from its clock (a captured request cannot be
replayed later), and a body over WEBHOOK_MAX_BODY_BYTES. Within the window a
replay stores nothing twice: posts are idempotent on channel and external id.
The header may carry several `v1=` signatures, comma-separated, so a sender
can sign with a new secret and the old while both are in use.
"""

import hashlib
import hmac
import re
import secrets
import time

from django.db import transaction
from django.utils import timezone

from socialdesk.audit.actions import do_record
from socialdesk.connectors import credentials
from socialdesk.connectors.models import ChannelAccount, WebhookSource

SIGNATURE_HEADER = "X-Socialdesk-Signature"
TIMESTAMP_HEADER = "X-Socialdesk-Timestamp"
SCHEME = "v1"
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,22}[a-z0-9])?")
_HEX_SIGNATURE = re.compile(r"[0-9a-f]{64}")


class WebhookError(Exception):
    """A source that cannot be added or changed as asked."""


class Refused(Exception):
    """A webhook request the desk does not take, with the status to answer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The header value a sender puts in X-Socialdesk-Signature."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"{SCHEME}={digest.hexdigest()}"


def source_for(slug: str) -> WebhookSource:
    source = WebhookSource.objects.filter(slug=slug).first()
    if source is None:
        raise Refused(404, f"no webhook source {slug!r}: add it with "
                           f"`socialdesk webhook add {slug}`")
    if not source.is_active:
        raise Refused(403, f"webhook source {slug!r} is paused")
    return source


def check_timestamp(value: str | None, tolerance: int, now: float | None = None) -> str:
    """The header's value, when it is a time within `tolerance` seconds of now."""
    if not value:
        raise Refused(401, f"{TIMESTAMP_HEADER} is missing: send the Unix time the request "
                           "was signed at")
    if not value.isdigit() or len(value) > 12:
        raise Refused(401, f"{TIMESTAMP_HEADER} must be a Unix time in whole seconds, "
                           f"not {value[:40]!r}")
    skew = int(value) - int(now if now is not None else time.time())
    if abs(skew) > tolerance:
        when = f"{-skew} s old" if skew < 0 else f"{skew} s ahead of the desk's clock"
        raise Refused(401, f"the signature's timestamp is {when}; the desk accepts "
                           f"{tolerance} s either way (check the sender's clock)")
    return value


def check_signature(source: WebhookSource, timestamp: str, header: str | None,
                    body: bytes) -> None:
    if not header:
        raise Refused(401, f"{SIGNATURE_HEADER} is missing")
    given = [part.strip()[len(SCHEME) + 1:] for part in header.split(",")
             if part.strip().startswith(f"{SCHEME}=")]
    if not any(_HEX_SIGNATURE.fullmatch(g) for g in given):
        raise Refused(401, f"{SIGNATURE_HEADER} must be {SCHEME}= and 64 hex digits")
    expected = signature(credentials.decrypt(source.secret), timestamp, body)[len(SCHEME) + 1:]
    # compare_digest for each: the time taken says nothing about how close a guess was.
    if not any(hmac.compare_digest(expected, g) for g in given):
        raise Refused(401, "the signature does not match the body and timestamp with this "
                           "source's secret")


def note_used(source: WebhookSource) -> None:
    WebhookSource.objects.filter(pk=source.pk).update(last_used_at=timezone.now())


# Sources

def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


@transaction.atomic
def do_add_source(slug: str, name: str = "", actor=None) -> tuple[WebhookSource, str]:
    """A new source and its secret, which is not shown again."""
    if not _SLUG.fullmatch(slug):
        raise WebhookError(f"{slug!r} is not a source name: 1 to 24 lower-case letters, "
                           "digits and inner hyphens")
    if WebhookSource.objects.filter(slug=slug).exists():
        raise WebhookError(f"webhook source {slug!r} exists already")
    secret = _new_secret()
    source = WebhookSource.objects.create(slug=slug, name=name[:255],
                                          secret=credentials.encrypt(secret))
    do_record("webhook.added", actor=actor, source=slug)
    return source, secret


@transaction.atomic
def do_rotate_secret(source: WebhookSource, actor=None) -> str:
    """A new secret for the source, in force at once; the old one stops working."""
    secret = _new_secret()
    source.secret = credentials.encrypt(secret)
    source.save(update_fields=["secret"])
    do_record("webhook.secret_rotated", actor=actor, source=source.slug)
    return secret


def do_set_active(source: WebhookSource, active: bool, actor=None) -> None:
    source.is_active = active
    source.save(update_fields=["is_active"])
    do_record("webhook.resumed" if active else "webhook.paused", actor=actor,
              source=source.slug)


def do_remove_source(source: WebhookSource, actor=None) -> None:
    slug = source.slug
    source.delete()
    do_record("webhook.removed", actor=actor, source=slug)


@transaction.atomic
def do_rekey() -> int:
    """Re-encrypt every stored secret under the first of CREDENTIALS_KEYS; how many."""
    sources = list(WebhookSource.objects.select_for_update())
    for source in sources:
        source.secret = credentials.reencrypt(source.secret)
    WebhookSource.objects.bulk_update(sources, ["secret"])
    accounts = list(ChannelAccount.objects.select_for_update().exclude(credentials=""))
    for account in accounts:
        account.credentials = credentials.reencrypt(account.credentials)
    ChannelAccount.objects.bulk_update(accounts, ["credentials"])
    return len(sources) + len(accounts)
