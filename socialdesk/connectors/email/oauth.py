"""Signing in to a mailbox with OAuth 2.0, as Microsoft 365 requires (it refuses
passwords over IMAP and SMTP) and Gmail prefers.

An admin signs in to the mailbox through the desk's account page (or gives the
account a refresh token got otherwise); the account keeps the refresh token and
the app's client secret, encrypted with its other credentials. The desk trades
the refresh token for an access token (connectors.oauth), keeps that in this
process until a minute before it expires, and signs in with SASL XOAUTH2 on
IMAP and SMTP. A provider that rotates refresh tokens (Microsoft does) answers
with a new one, which replaces the stored one at once.
"""

import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.db import transaction

from socialdesk.connectors import oauth
from socialdesk.connectors.base import ConnectorError

logger = logging.getLogger(__name__)

# An access token is renewed this many seconds before the provider says it expires.
EARLY = 60

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
            answer = oauth.token_request(self.token_url, form, self.timeout)
        except ConnectorError as e:
            if e.kind == ConnectorError.RETRYABLE:
                raise
            raise ConnectorError(f"{e}; sign in to the mailbox again from its account page",
                                 e.kind) from e
        rotated = answer.get("refresh_token")
        rotated = rotated if isinstance(rotated, str) and rotated \
            and rotated != self.refresh_token else ""
        return answer["access_token"], oauth.seconds(answer.get("expires_in")) or 3600, rotated


def sign_in(account, mail) -> oauth.SignIn:
    """Where an admin signs in to the mailbox, from the settings of an account that
    signs in with OAuth (`mail.imap.oauth`: EmailConnector.sign_in asks only then)."""
    authorize_url = (account.config or {}).get("oauth_authorize_url") or _known_sign_in_page(
        mail.imap.oauth.token_url)
    if not authorize_url:
        raise ConnectorError("config.oauth_authorize_url is missing: the provider's sign-in "
                             "page", ConnectorError.PERMANENT)
    return oauth.SignIn(
        authorize_url=oauth.checked_url(authorize_url, "oauth_authorize_url",
                                        "https://accounts.google.com/o/oauth2/v2/auth"),
        token_url=mail.imap.oauth.token_url, client_id=mail.imap.oauth.client_id,
        client_secret=mail.imap.oauth.client_secret, scope=mail.imap.oauth.scope,
        # Offline access and consent: the answer then holds a refresh token, even
        # for a mailbox that signed in before (Google's rule).
        params={"login_hint": mail.address, "access_type": "offline", "prompt": "consent"},
        timeout=mail.timeout)


def _known_sign_in_page(token_url: str) -> str:
    """The sign-in page of a provider its token endpoint names: Google's, and
    Microsoft's for the tenant in the endpoint's path."""
    parts = urlsplit(token_url)
    if parts.hostname == "oauth2.googleapis.com":
        return "https://accounts.google.com/o/oauth2/v2/auth"
    if parts.hostname == "login.microsoftonline.com" and parts.path.endswith("/token"):
        return parts._replace(path=parts.path.removesuffix("/token") + "/authorize").geturl()
    return ""


def keep_sign_in(account, answer: dict) -> None:
    """Store the refresh token a sign-in gave, in place of any before it."""
    refresh_token = answer.get("refresh_token")
    if not isinstance(refresh_token, str) or not refresh_token:
        raise ConnectorError("the provider gave no refresh token: ask for offline access "
                             "(Microsoft: the offline_access scope)", ConnectorError.PERMANENT)
    account.set_secrets({**account.secrets(), "oauth_refresh_token": refresh_token})


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
