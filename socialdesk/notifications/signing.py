"""How a webhook body is encoded and signed, and how a receiver checks it.

The scheme, for receivers:

- The body is JSON (ASCII: other characters are escaped). Verify the raw bytes
  as received: never re-serialise the parsed JSON, whose spacing and key order
  may differ.
- The header ``X-Socialdesk-Signature: t=<unix seconds>,v1=<hex>`` carries the
  time of signing and the HMAC-SHA256, keyed with the endpoint's secret, of the
  bytes ``b"<t>." + body``.
- Accept when one ``v1`` matches (compared in constant time) and ``t`` is within
  a few minutes of your clock. Signing the time with the body stops a captured
  request from being replayed later; a retry is signed afresh.

This module needs only the standard library, so a receiver written in Python
may copy ``verify_signature``.
"""

import hashlib
import hmac
import json
import time

SIGNATURE_HEADER = "X-Socialdesk-Signature"


def encode_body(payload: dict) -> bytes:
    # One canonical form: the stored payload and the bytes signed and sent
    # are the same whatever the database did to key order.
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), b"%d." % timestamp + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The signature header's value for `body`, signed now unless told when."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={_digest(secret, t, body)}"


def verify_signature(secret: str, header: str, body: bytes, tolerance_seconds: int = 300,
                     now: float | None = None) -> bool:
    """Whether `header` signs `body` with `secret` within `tolerance_seconds` of
    `now` (unix seconds; the clock by default). Several ``v1`` entries may be
    present, e.g. while a secret is being rotated: one match is enough."""
    if not header:
        return False
    timestamps, signatures = [], []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            signatures.append(value)
    # isdigit alone would accept digits of other scripts, which int() reads.
    if len(timestamps) != 1 or not (timestamps[0].isascii() and timestamps[0].isdigit()):
        return False
    t = int(timestamps[0])
    if abs((time.time() if now is None else now) - t) > tolerance_seconds:
        return False
    # Bytes, because compare_digest refuses str that is not ASCII.
    expected = _digest(secret, t, body).encode()
    return any(hmac.compare_digest(expected, s.encode()) for s in signatures)
