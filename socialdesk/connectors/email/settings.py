"""An e-mail account's settings, read from the ChannelAccount and checked once.

config (not secret):
  imap_host, imap_port, imap_security ("ssl", "starttls" or "none")
  smtp_host, smtp_port, smtp_security (the same choices)
  username        the login, when it is not the mailbox address (account.handle)
  folder          the folder read for posts (default INBOX)
  sent_folder     where replies are filed once sent (default Sent; made if missing)
  display_name    shown with the address in replies' From
  start           "all" (default): the first fetch reads the whole folder;
                  "new": only mail that arrives after it
  timeout         seconds any one network step may take (default 30)
  oauth_token_url the provider's OAuth 2.0 token endpoint: sign in with XOAUTH2
                  instead of a password (connectors.email.oauth)
  oauth_client_id the desk's app registration at the provider
  oauth_scope     the scopes asked for with each token, where the provider needs them
  oauth_authorize_url  the provider's sign-in page, where the desk cannot tell it
                  from the token endpoint (it can for Google's and Microsoft's)
secrets: password, or oauth_refresh_token and oauth_client_secret (where the app
has one); smtp_username and smtp_password where the SMTP server takes other
credentials than the IMAP one (a username may also be kept in secrets).

"none" sends the password unencrypted, so it is refused for any host but this
machine's own (a relay or a test server on localhost).
"""

from dataclasses import dataclass

from socialdesk.connectors.base import ConnectorError
from socialdesk.connectors.email.oauth import OAuth
from socialdesk.connectors.oauth import LOCAL_HOSTS, checked_url

SECURITY = ("ssl", "starttls", "none")
DEFAULT_PORTS = {"imap": {"ssl": 993, "starttls": 143, "none": 143},
                 "smtp": {"ssl": 465, "starttls": 587, "none": 25}}


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    security: str
    username: str
    password: str
    oauth: OAuth | None = None  # signs in with XOAUTH2 instead of the password

    def refused(self, token: str, kept: bool, said: str) -> ConnectorError:
        """The server refused the credentials. An access token kept from earlier may
        have been revoked since: the next try asks the provider for a new one. One
        just given, or a password, needs a person."""
        if not self.oauth:
            return ConnectorError(f"{self.host} refused the sign-in as {self.username}: "
                                  f"{said}", ConnectorError.REAUTHORISE)
        self.oauth.forget(token)
        if kept:
            return ConnectorError(f"{self.host} refused the access token for {self.username} "
                                  f"({said}); a new one is asked for at the next try")
        return ConnectorError(f"{self.host} refused the OAuth sign-in as {self.username}: "
                              f"{said}; check that the app may use IMAP and SMTP for this "
                              "mailbox", ConnectorError.REAUTHORISE)


@dataclass(frozen=True)
class MailSettings:
    address: str  # the mailbox's address: replies' From
    display_name: str
    imap: Server
    smtp: Server | None  # None: no smtp_host, the account only listens
    folder: str
    sent_folder: str
    start: str
    timeout: float

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


def _server(kind: str, config: dict, username: str, password: str,
            oauth: OAuth | None = None) -> Server:
    host = str(config.get(f"{kind}_host") or "").strip()
    if not host:
        raise ConnectorError(f"no {kind.upper()} server: set the account's config.{kind}_host",
                             ConnectorError.PERMANENT)
    security = str(config.get(f"{kind}_security") or "ssl").lower()
    if security not in SECURITY:
        raise ConnectorError(f"config.{kind}_security must be one of {', '.join(SECURITY)}, "
                             f"not {security!r}", ConnectorError.PERMANENT)
    if security == "none" and host.lower() not in LOCAL_HOSTS:
        raise ConnectorError(f"config.{kind}_security \"none\" would send the password "
                             f"unencrypted to {host}: use ssl or starttls (\"none\" is for a "
                             "server on this machine)", ConnectorError.PERMANENT)
    port = config.get(f"{kind}_port") or DEFAULT_PORTS[kind][security]
    if isinstance(port, bool) or not str(port).isdigit() or not 0 < int(port) < 65536:
        raise ConnectorError(f"config.{kind}_port must be a port number, not {port!r}",
                             ConnectorError.PERMANENT)
    return Server(host, int(port), security, username, password, oauth)


def mail_settings(account, signing_in: bool = False) -> MailSettings:
    """The account's settings; ConnectorError (permanent, or reauthorise for a
    missing password) saying which one to fix. `signing_in`: the OAuth refresh
    token is what the admin is about to get, not needed yet."""
    config, secrets = account.config or {}, account.secrets()
    address = (account.handle or "").strip().lstrip("@")
    if address.count("@") != 1 or any(c.isspace() for c in address):
        raise ConnectorError(f"the account's handle {account.handle!r} must be the mailbox's "
                             "address (care@example.com)", ConnectorError.PERMANENT)
    username = str(config.get("username") or secrets.get("username") or address)
    timeout = config.get("timeout", 30)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
            or not 0 < timeout <= 300:
        raise ConnectorError("config.timeout must be a number of seconds from 1 to 300",
                             ConnectorError.PERMANENT)
    oauth = _oauth(account, config, secrets, float(timeout), signing_in)
    password = secrets.get("password") or ""
    if not password and not oauth:
        raise ConnectorError('no password: set the account\'s secrets {"password": "…"}, or '
                             "sign in with OAuth (config.oauth_token_url)",
                             ConnectorError.REAUTHORISE)
    start = config.get("start", "all")
    if start not in ("all", "new"):
        raise ConnectorError(f'config.start must be "all" or "new", not {start!r}',
                             ConnectorError.PERMANENT)
    return MailSettings(
        address=address, display_name=str(config.get("display_name") or ""),
        imap=_server("imap", config, username, str(password), oauth),
        # A relay with credentials of its own takes those; otherwise the mailbox's.
        smtp=_server("smtp", config, str(config.get("smtp_username")
                                         or secrets.get("smtp_username") or username),
                     str(secrets.get("smtp_password") or password),
                     None if secrets.get("smtp_password") else oauth)
        if config.get("smtp_host") else None,
        folder=str(config.get("folder") or "INBOX"),
        sent_folder=str(config.get("sent_folder") or "Sent"),
        start=start, timeout=float(timeout))


def _oauth(account, config: dict, secrets: dict, timeout: float,
           signing_in: bool = False) -> OAuth | None:
    """How the account gets access tokens, when it signs in with OAuth 2.0."""
    token_url = str(config.get("oauth_token_url") or "").strip()
    if not token_url:
        return None
    token_url = checked_url(token_url, "oauth_token_url", "https://oauth2.googleapis.com/token")
    client_id = str(config.get("oauth_client_id") or "").strip()
    if not client_id:
        raise ConnectorError("config.oauth_client_id is missing: the app's client id at the "
                             "provider", ConnectorError.PERMANENT)
    refresh_token = secrets.get("oauth_refresh_token")
    if not isinstance(refresh_token, str) or not refresh_token.strip():
        if not signing_in:
            raise ConnectorError("not signed in to the mailbox yet: sign in from the "
                                 "account's page", ConnectorError.REAUTHORISE)
        refresh_token = ""
    return OAuth(account_id=account.pk, token_url=token_url, client_id=client_id,
                 client_secret=str(secrets.get("oauth_client_secret") or ""),
                 refresh_token=refresh_token.strip(),
                 scope=" ".join(str(config.get("oauth_scope") or "").split()), timeout=timeout)
