"""The one place the Mastodon connector talks to a server: an account's settings
made into a Mastodon.py client, and the library's errors made into the desk's.

Rate limits are thrown, never waited for (`ratelimit_method="throw"`): the
library's own waiting would sleep inside the clock's tick or a delivery worker
for up to five minutes. The desk waits instead, for as long as the server's
X-RateLimit-Reset says.
"""

import ipaddress
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonError,
    MastodonIllegalArgumentError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
    MastodonVersionError,
)

from socialdesk.connectors.base import ConnectorError
from socialdesk.connectors.credentials import CredentialError

# Seconds for one request: a delivery must end well inside the outbox's five
# minutes "sending" (cases.outbox.SENDING_TIMEOUT).
TIMEOUT = 20
USER_AGENT = "socialdesk"


@dataclass
class Server:
    """A client for one account, and the names its ids and handles are under."""

    client: Mastodon
    host: str  # the API's host (and port): status ids are local to it
    domain: str  # the domain of the server's handles, "user@domain"
    handle: str  # the desk's own account, "user@domain"
    # The server's own words ({"error": ...}) of each failed answer: Mastodon.py
    # loses them for requests that return lists.
    errors: list[str] = field(default_factory=list)

    def full(self, acct: str) -> str:
        """A handle as "user@domain" for local accounts too (Mastodon gives them as "user")."""
        acct = (acct or "").lstrip("@")
        return acct if "@" in acct else f"{acct}@{self.domain}"


def connect(account) -> Server:
    """A client for the account; ConnectorError when its settings cannot make one."""
    config = account.config if isinstance(account.config, dict) else {}
    base = config.get("api_base_url")
    host = _check_base_url(base)
    try:
        token = account.secrets().get("access_token")
    except CredentialError as e:
        raise ConnectorError(f"{account}: {e}", ConnectorError.REAUTHORISE) from e
    if not isinstance(token, str) or not token.strip():
        raise ConnectorError(f"{account}: no access_token in the account's credentials",
                             ConnectorError.REAUTHORISE)
    handle = account.handle.strip().lstrip("@").lower()
    domain = handle.partition("@")[2] or host.split(":")[0]
    errors: list[str] = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, *args, **kwargs: None if response.ok
                                     else errors.append(_error_of(response)))
    try:
        client = Mastodon(api_base_url=base.rstrip("/"), ratelimit_method="throw",
                          request_timeout=TIMEOUT, version_check_mode="none",
                          user_agent=USER_AGENT, session=session)
    except MastodonError as e:
        raise ConnectorError(f"{account}: {e}", ConnectorError.PERMANENT) from e
    # Given after construction: the constructor reads a token that happens to name
    # a file from that file.
    client.access_token = token.strip()
    return Server(client=client, host=host, domain=domain, handle=handle, errors=errors)


def _error_of(response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    found = body.get("error") if isinstance(body, dict) else None
    return found[:500] if isinstance(found, str) else ""


def _check_base_url(base) -> str:
    """The host of a server URL such as https://mastodon.social; plain http only to
    this machine (a test server), since the token travels with every request."""
    parts = urlsplit(base) if isinstance(base, str) else None
    if not parts or parts.scheme not in ("http", "https") or not parts.hostname \
            or parts.path not in ("", "/") or parts.query or parts.username:
        raise ConnectorError(f"config.api_base_url must be the server's address, such as "
                             f"https://mastodon.social, not {str(base)[:80]!r}",
                             ConnectorError.PERMANENT)
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise ConnectorError(f"config.api_base_url {base!r} must use https: the access token "
                             "is sent with every request", ConnectorError.PERMANENT)
    return parts.netloc.lower()


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def status_code(e: MastodonError) -> int | None:
    # Mastodon.py raises its API errors with (text, status, reason, server's error).
    code = e.args[1] if len(e.args) > 1 else None
    return code if isinstance(code, int) else None


def said(server: Server, e: MastodonError) -> str:
    """The server's own words for an error, and its status."""
    code = status_code(e)
    if code is None:
        return str(e.args[0]) if e.args else type(e).__name__
    message = (e.args[3] if len(e.args) > 3 and e.args[3] else None) or \
        (server.errors[-1] if server.errors and server.errors[-1] else e.args[2])
    return f"{message} (HTTP {code})"


def failure(server: Server, e: MastodonError) -> ConnectorError:
    """The library's error as the desk's, with the kind that says what helps."""
    where = server.host
    if isinstance(e, MastodonRatelimitError):
        reset = server.client.ratelimit_reset
        wait = max(1.0, reset - time.time()) if reset else None
        when = f"; it resets in {wait:.0f} s" if wait else ""
        return ConnectorError(f"{where} rate limit reached{when}", ConnectorError.RETRYABLE,
                              retry_after=wait)
    if isinstance(e, MastodonNetworkError):
        return ConnectorError(f"could not reach {where}: {e}", ConnectorError.RETRYABLE)
    code = status_code(e)
    if isinstance(e, MastodonUnauthorizedError) or code == 403:
        return ConnectorError(f"{where} refused the access token: {said(server, e)}; give the "
                              "account a new token", ConnectorError.REAUTHORISE)
    if isinstance(e, MastodonServerError) or (code or 0) >= 500:
        return ConnectorError(f"{where} failed: {said(server, e)}", ConnectorError.RETRYABLE)
    if isinstance(e, (MastodonAPIError, MastodonIllegalArgumentError, MastodonVersionError)):
        return ConnectorError(f"{where} said: {said(server, e)}", ConnectorError.PERMANENT)
    return ConnectorError(f"{where}: {e}", ConnectorError.PERMANENT)


@contextmanager
def calls(server: Server):
    """Requests to the server; its errors come out as ConnectorError."""
    try:
        yield server.client
    except MastodonError as e:
        raise failure(server, e) from e
