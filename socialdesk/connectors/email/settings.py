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
secrets: password; smtp_username and smtp_password where the SMTP server takes
other credentials than the IMAP one (a username may also be kept in secrets).

"none" sends the password unencrypted, so it is refused for any host but this
machine's own (a relay or a test server on localhost).
"""

from dataclasses import dataclass

from socialdesk.connectors.base import ConnectorError

SECURITY = ("ssl", "starttls", "none")
DEFAULT_PORTS = {"imap": {"ssl": 993, "starttls": 143, "none": 143},
                 "smtp": {"ssl": 465, "starttls": 587, "none": 25}}
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    security: str
    username: str
    password: str


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


def _server(kind: str, config: dict, username: str, password: str) -> Server:
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
    return Server(host, int(port), security, username, password)


def mail_settings(account) -> MailSettings:
    """The account's settings; ConnectorError (permanent, or reauthorise for a
    missing password) saying which one to fix."""
    config, secrets = account.config or {}, account.secrets()
    address = (account.handle or "").strip().lstrip("@")
    if address.count("@") != 1 or any(c.isspace() for c in address):
        raise ConnectorError(f"the account's handle {account.handle!r} must be the mailbox's "
                             "address (care@example.com)", ConnectorError.PERMANENT)
    username = str(config.get("username") or secrets.get("username") or address)
    password = secrets.get("password")
    if not password:
        raise ConnectorError('no password: set the account\'s secrets {"password": "…"}',
                             ConnectorError.REAUTHORISE)
    timeout = config.get("timeout", 30)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
            or not 0 < timeout <= 300:
        raise ConnectorError("config.timeout must be a number of seconds from 1 to 300",
                             ConnectorError.PERMANENT)
    start = config.get("start", "all")
    if start not in ("all", "new"):
        raise ConnectorError(f'config.start must be "all" or "new", not {start!r}',
                             ConnectorError.PERMANENT)
    return MailSettings(
        address=address, display_name=str(config.get("display_name") or ""),
        imap=_server("imap", config, username, str(password)),
        smtp=_server("smtp", config, str(config.get("smtp_username")
                                         or secrets.get("smtp_username") or username),
                     str(secrets.get("smtp_password") or password))
        if config.get("smtp_host") else None,
        folder=str(config.get("folder") or "INBOX"),
        sent_folder=str(config.get("sent_folder") or "Sent"),
        start=start, timeout=float(timeout))
