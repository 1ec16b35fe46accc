"""Signing in to a mailbox with OAuth 2.0, as Microsoft 365 requires (it refuses
passwords over IMAP and SMTP) and Gmail prefers.

The account keeps a refresh token and the app's client secret, encrypted with
its other credentials. The desk trades the refresh token at the provider's token
endpoint (RFC 6749, section 6) for an access token, keeps that in this process
until a minute before it expires, and signs in with SASL XOAUTH2 on IMAP and
SMTP. A provider that rotates refresh tokens (Microsoft does) answers with a new
one, which replaces the stored one at once.

The token request is one form POST, made with requests: OAuth libraries refuse
plain http even to a server on this machine, and some refuse an answer whose
scope differs from the one asked for, which Microsoft's often does.
"""

import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from django.db import transaction

from socialdesk.connectors.base import ConnectorError

logger = logging.getLogger(__name__)

# An access token is renewed this many seconds before the provider says it expires.
EARLY = 60
# The provider's answers that mean the refresh token or the app's registration no
# longer works: a person must sign in again (RFC 6749, section 5.2).
SIGN_IN_AGAIN = ("invalid_grant", "invalid_client", "unauthorized_client", "invalid_scope")

_tokens: dict[str, tuple[str, float]] = {}  # refresh token's digest → access token, until
_lock = threading.Lock()


@dataclass(frozen=True)
class OAuth:
    """How one account gets its access tokens."""

    account_id: int | None  # where a rotated refresh token is kept; None: nowhere
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    scope: str
    timeout: float

    @property
    def host(self) -> str:
        return urlsplit(self.token_url).netloc

    def access_token(self) -> tuple[str, bool]:
        """A current access token, and whether it was kept from an earlier request
        (it may have been revoked since). ConnectorError when the provider gives none."""
        key = _digest(self.refresh_token)
        with _lock:  # one request at a time: a rotated refresh token is used once
            kept = _tokens.get(key)
            if kept and kept[1] > time.monotonic():
                return kept[0], True
            token, lifetime, rotated = self._request()
            until = time.monotonic() + max(0, lifetime - EARLY)
            _tokens[key] = (token, until)
            if rotated:
                _tokens[_digest(rotated)] = (token, until)
        if rotated:
            _keep_rotated(self.account_id, self.refresh_token, rotated)
        return token, False

    def forget(self, token: str) -> None:
        """The server refused this access token: the next sign-in asks for another."""
        with _lock:
            for key, (kept, _) in list(_tokens.items()):
                if kept == token:
                    del _tokens[key]

    def _request(self) -> tuple[str, int, str]:
        form = {"grant_type": "refresh_token", "refresh_token": self.refresh_token,
                "client_id": self.client_id}
        if self.client_secret:
            form["client_secret"] = self.client_secret
        if self.scope:
            form["scope"] = self.scope
        try:
            response = requests.post(self.token_url, data=form, timeout=self.timeout,
                                     headers={"Accept": "application/json"},
                                     allow_redirects=False)
        except requests.RequestException as e:
            raise ConnectorError(f"cannot reach the OAuth token endpoint {self.host}: "
                                 f"{type(e).__name__}") from e
        try:
            answer = response.json()
        except ValueError:
            answer = None
        answer = answer if isinstance(answer, dict) else {}
        if response.status_code == 429 or response.status_code >= 500:
            raise ConnectorError(f"the OAuth token endpoint {self.host} is unavailable "
                                 f"({_said(response, answer)})",
                                 retry_after=_seconds(response.headers.get("Retry-After")))
        if not response.ok:
            kind = ConnectorError.REAUTHORISE if answer.get("error") in SIGN_IN_AGAIN \
                else ConnectorError.PERMANENT
            raise ConnectorError(f"{self.host} refused the account's OAuth refresh token: "
                                 f"{_said(response, answer)}; sign in again and give the "
                                 "account the new refresh token", kind)
        token = answer.get("access_token")
        if not isinstance(token, str) or not token or len(token) > 20_000:
            raise ConnectorError(f"the OAuth token endpoint {self.host} answered without an "
                                 "access token", ConnectorError.PERMANENT)
        lifetime = _seconds(answer.get("expires_in")) or 3600
        rotated = answer.get("refresh_token")
        rotated = rotated if isinstance(rotated, str) and rotated \
            and rotated != self.refresh_token else ""
        return token, lifetime, rotated


def _keep_rotated(account_id: int | None, old: str, new: str) -> None:
    """Store the provider's new refresh token in place of the one it replaced, unless
    an admin gave the account another meanwhile."""
    from socialdesk.connectors.models import ChannelAccount

    if account_id is None:
        logger.warning("the OAuth provider rotated the refresh token of an unsaved account")
        return
    with transaction.atomic():
        account = ChannelAccount.objects.select_for_update().filter(pk=account_id).first()
        if account is None:
            return
        secrets = account.secrets()
        if secrets.get("oauth_refresh_token") != old:
            return
        account.set_secrets({**secrets, "oauth_refresh_token": new})
        ChannelAccount.objects.filter(pk=account_id).update(credentials=account.credentials)


def xoauth2(username: str, token: str) -> str:
    """The XOAUTH2 initial response (before base64), as IMAP and SMTP take it."""
    return f"user={username}\x01auth=Bearer {token}\x01\x01"


def _digest(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode()).hexdigest()


def _seconds(value) -> int | None:
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return None
    return seconds if 0 < seconds <= 7 * 24 * 3600 else None


def _said(response, answer: dict) -> str:
    words = [str(answer.get(k))[:300] for k in ("error", "error_description") if answer.get(k)]
    return f"{': '.join(words) or response.reason} (HTTP {response.status_code})"
