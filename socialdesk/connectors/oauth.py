"""OAuth 2.0 for the connectors that sign in with it: a person signs in at the
provider through the desk (the authorization code grant with PKCE, RFC 6749
section 4.1 and RFC 7636), and the desk keeps the refresh token it is given and
trades it for access tokens (section 6).

Token requests are one form POST each, made with requests: OAuth libraries
refuse plain http even to a server on this machine, and some refuse an answer
whose scope differs from the one asked for, which Microsoft's often does.
"""

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import requests

from socialdesk.connectors.base import ConnectorError

# This machine's own names: plain http (or an unencrypted mail server) is allowed
# only to these, where a test server or a local relay listens.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
# The provider's answers that mean the grant or the app's registration no longer
# works: a person must sign in again (RFC 6749, section 5.2).
SIGN_IN_AGAIN = ("invalid_grant", "invalid_client", "unauthorized_client", "invalid_scope")


@dataclass(frozen=True)
class SignIn:
    """Where a person signs in for an account, and how the code is traded."""

    authorize_url: str
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str
    # Further parameters of the provider's sign-in page (login_hint, prompt, …).
    params: dict = field(default_factory=dict, hash=False)
    timeout: float = 30

    def url(self, redirect_uri: str, state: str, verifier: str) -> str:
        """The provider's sign-in page, for this state and PKCE verifier."""
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        query = {"client_id": self.client_id, "response_type": "code",
                 "redirect_uri": redirect_uri, "state": state,
                 "code_challenge": challenge.rstrip(b"=").decode(),
                 "code_challenge_method": "S256", **self.params}
        if self.scope:
            query["scope"] = self.scope
        joiner = "&" if urlsplit(self.authorize_url).query else "?"
        return f"{self.authorize_url}{joiner}{urlencode(query)}"

    def trade(self, code: str, redirect_uri: str, verifier: str) -> dict:
        """The provider's tokens for the code its sign-in page gave."""
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": redirect_uri, "client_id": self.client_id,
                "code_verifier": verifier}
        if self.client_secret:
            form["client_secret"] = self.client_secret
        return token_request(self.token_url, form, self.timeout)


def new_verifier() -> str:
    """A PKCE code verifier (43 to 128 characters of the URL-safe alphabet)."""
    return secrets.token_urlsafe(48)


def checked_url(url, setting: str, example: str) -> str:
    """A provider's endpoint from an account's settings: https, or http to this
    machine (a test server); ConnectorError naming the setting otherwise."""
    url = str(url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        raise ConnectorError(f"config.{setting} must be the provider's address, such as "
                             f"{example}, not {url[:80]!r}", ConnectorError.PERMANENT)
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        raise ConnectorError(f"config.{setting} {url[:80]!r} must use https: credentials are "
                             "sent to it", ConnectorError.PERMANENT)
    return url


def token_request(token_url: str, form: dict, timeout: float) -> dict:
    """POST the form to the token endpoint; the provider's answer, or ConnectorError
    with its words: retryable while it is down, reauthorise when the grant or the
    app is refused, permanent for anything else."""
    host = urlsplit(token_url).netloc
    try:
        response = requests.post(token_url, data=form, timeout=timeout,
                                 headers={"Accept": "application/json"}, allow_redirects=False)
    except requests.RequestException as e:
        raise ConnectorError(f"cannot reach the OAuth token endpoint {host}: "
                             f"{type(e).__name__}") from e
    try:
        answer = response.json()
    except ValueError:
        answer = None
    answer = answer if isinstance(answer, dict) else {}
    if response.status_code == 429 or response.status_code >= 500:
        raise ConnectorError(f"the OAuth token endpoint {host} is unavailable "
                             f"({_said(response, answer)})",
                             retry_after=seconds(response.headers.get("Retry-After")))
    if not response.ok:
        kind = ConnectorError.REAUTHORISE if answer.get("error") in SIGN_IN_AGAIN \
            else ConnectorError.PERMANENT
        raise ConnectorError(f"{host} refused the OAuth request: {_said(response, answer)}",
                             kind)
    token = answer.get("access_token")
    if not isinstance(token, str) or not token or len(token) > 20_000:
        raise ConnectorError(f"the OAuth token endpoint {host} answered without an access "
                             "token", ConnectorError.PERMANENT)
    return answer


def seconds(value) -> int | None:
    """A provider's number of seconds (expires_in, Retry-After), if it is one."""
    try:
        found = int(value)
    except (TypeError, ValueError):
        return None
    return found if 0 < found <= 7 * 24 * 3600 else None


def _said(response, answer: dict) -> str:
    words = [str(answer.get(k))[:300] for k in ("error", "error_description") if answer.get(k)]
    return f"{': '.join(words) or response.reason} (HTTP {response.status_code})"
