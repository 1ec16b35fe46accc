"""Signing in to the account's PDS with an app password, keeping the session, and
what the platform's errors mean for the desk.

A session is kept with the account's secrets, encrypted like them, so that a
fetch every minute does not sign in every minute: Bluesky allows an account
only a few hundred sign-ins a day (com.atproto.server.createSession), while a
session's refresh token lasts for weeks.
"""

import time

from atproto import Client, SessionEvent
from atproto_client import exceptions
from atproto_client.client.session import Session
from atproto_client.request import Request

from socialdesk.connectors.base import ConnectorError

DEFAULT_SERVICE = "https://bsky.social"
# Seconds for one request; a delivery makes at most four.
TIMEOUT = 20
# What a session signed in with the account's main password carries, rather than
# an app password's com.atproto.appPass: the desk refuses it, as a main password
# can change the account's e-mail, password and handle.
MAIN_PASSWORD_SCOPE = "com.atproto.access"
# Errors that say the access token is no good, before its time (revoked, expired
# early); the PDS answers some of them with 400 rather than 401.
TOKEN_ERRORS = {"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing"}


class Bluesky:
    """A signed-in client for one account, for the length of one call of the
    connector, and who the account is (its DID and handle)."""

    def __init__(self, account, fresh: bool = False):
        self.account = account
        self.service = service_of(account)
        self.password = account.secrets().get("app_password", "")
        if not self.password:
            raise ConnectorError("no app password: store the account's app_password secret "
                                 "(Bluesky: Settings, Privacy and security, App passwords)",
                                 ConnectorError.REAUTHORISE)
        self.client = Client(base_url=self.service, request=Request(timeout=TIMEOUT))
        saved = account.secrets().get("session") or {}
        if not fresh and saved.get("for") == [self.service, account.handle] and saved.get("string"):
            self.client.login(session_string=saved["string"], fetch_bsky_profile=False)
        else:
            self._sign_in()
        self.client.on_session_change(self._keep)

    @property
    def did(self) -> str:
        return self._session().did

    @property
    def handle(self) -> str:
        return self._session().handle

    def _session(self) -> Session:
        return Session.decode(self.client.export_session_string())

    def _sign_in(self) -> None:
        try:
            self.client.login(self.account.handle.lstrip("@"), self.password,
                              fetch_bsky_profile=False)
        except exceptions.AtProtocolError as e:
            error = classify(e)
            if error.kind == ConnectorError.REAUTHORISE or isinstance(
                    e, exceptions.BadRequestError):
                raise ConnectorError(f"signing in as @{self.account.handle.lstrip('@')} "
                                     f"failed: {error}", ConnectorError.REAUTHORISE) from None
            raise error from None
        if self._session().access_jwt_payload.scope == MAIN_PASSWORD_SCOPE:
            raise ConnectorError("this is the account's main password: give the desk an app "
                                 "password instead (Settings, Privacy and security, App "
                                 "passwords)", ConnectorError.REAUTHORISE)
        self._keep(SessionEvent.CREATE, None)

    def _keep(self, event, _session) -> None:
        """Store the new session with the account's secrets, unless an admin changed
        the app password meanwhile (then the next call signs in with the new one)."""
        if event not in (SessionEvent.CREATE, SessionEvent.REFRESH) or not self.account.pk:
            return
        from socialdesk.connectors.models import ChannelAccount

        current = ChannelAccount.objects.filter(pk=self.account.pk).first()
        if current is None or current.secrets().get("app_password") != self.password:
            return
        secrets = current.secrets()
        secrets["session"] = {"for": [self.service, self.account.handle],
                              "string": self.client.export_session_string()}
        current.set_secrets(secrets)
        ChannelAccount.objects.filter(pk=self.account.pk).update(credentials=current.credentials)
        self.account.credentials = current.credentials

    def call(self, request):
        """`request(client)`, classified when it fails. A token refused before its
        time is refreshed once, then the account signs in again once, before the
        error asks for new credentials."""
        try:
            return request(self.client)
        except exceptions.AtProtocolError as e:
            if not is_token_error(e):
                raise classify(e) from None
        for renew in (self._refresh, self._sign_in):
            try:
                renew()
                return request(self.client)
            except ConnectorError:
                raise
            except exceptions.AtProtocolError as e:
                if not is_token_error(e):
                    raise classify(e) from None
                last = e
        raise classify(last) from None

    def _refresh(self) -> None:
        """com.atproto.server.refreshSession with the refresh token; the new tokens
        are taken up as a saved session is, and kept."""
        old = self._session()
        renewed = self.client.com.atproto.server.refresh_session(
            headers={"Authorization": f"Bearer {old.refresh_jwt}"})
        session = Session(renewed.handle, renewed.did, renewed.access_jwt, renewed.refresh_jwt,
                          old.pds_endpoint)
        self.client.login(session_string=session.encode(), fetch_bsky_profile=False)
        self._keep(SessionEvent.REFRESH, None)


def service_of(account) -> str:
    service = str(account.config.get("service") or DEFAULT_SERVICE).rstrip("/")
    if not service.startswith(("https://", "http://")):
        raise ConnectorError(f"config.service must be the PDS's URL (such as {DEFAULT_SERVICE}), "
                             f"not {service[:60]!r}", ConnectorError.PERMANENT)
    return service


def xrpc_error(error: Exception) -> tuple[str, str]:
    """The error name and message the server gave (XRPC's {"error", "message"})."""
    content = getattr(getattr(error, "response", None), "content", None)
    name = getattr(content, "error", "") or ""
    message = getattr(content, "message", "") or ""
    return name, message


def describe(error: Exception) -> str:
    name, message = xrpc_error(error)
    if name or message:
        return f"{name}: {message}" if name and message else name or message
    status = getattr(getattr(error, "response", None), "status_code", None)
    return f"HTTP {status}" if status else (str(error) or type(error).__name__)


def is_token_error(error: Exception) -> bool:
    return (isinstance(error, exceptions.UnauthorizedError | exceptions.LoginRequiredError)
            or xrpc_error(error)[0] in TOKEN_ERRORS)


def retry_after(error: exceptions.RateLimitExceededError) -> float | None:
    """Seconds until the rate limit's window resets: Bluesky sends the moment as
    RateLimit-Reset (Unix seconds); some services send Retry-After instead."""
    reset = error.reset_at
    if reset is not None:
        return max(1.0, reset.timestamp() - time.time())
    return error.retry_after


def classify(error: Exception) -> ConnectorError:
    """A ConnectorError of the kind that helps: waiting, new credentials, or a person;
    its `xrpc` is the server's error name (RecordNotFound, InvalidRequest, …)."""
    found = _classify(error)
    found.xrpc = xrpc_error(error)[0]
    return found


def _classify(error: Exception) -> ConnectorError:
    text = f"Bluesky: {describe(error)}"
    if isinstance(error, exceptions.RateLimitExceededError):
        return ConnectorError(f"{text} (rate limited)", ConnectorError.RETRYABLE,
                              retry_after(error))
    if isinstance(error, exceptions.NetworkError):  # also timeouts, 502, 409 and 413
        return ConnectorError(f"Bluesky could not be reached: {describe(error)}",
                              ConnectorError.RETRYABLE)
    if is_token_error(error):
        return ConnectorError(text, ConnectorError.REAUTHORISE)
    if isinstance(error, exceptions.BadRequestError):
        return ConnectorError(text, ConnectorError.PERMANENT)
    status = getattr(getattr(error, "response", None), "status_code", 0) or 0
    if isinstance(error, exceptions.RequestException) and 400 <= status < 500:
        return ConnectorError(text, ConnectorError.PERMANENT)
    # 5xx, and answers that do not have the shape the lexicons define.
    return ConnectorError(text, ConnectorError.RETRYABLE)
