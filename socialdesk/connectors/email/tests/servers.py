"""Real mail servers for the e-mail connector's tests and benchmark: a private
Dovecot IMAP server (never the system's: its own configuration, directory and
port) and an aiosmtpd SMTP server with AUTH, collecting what it is sent. Both
take passwords and OAuth 2.0 access tokens (XOAUTH2) from a local authorization
server (oauth_server.py).

Dovecot comes from Debian's dovecot-imapd (scripts/install-mail-server).
"""

import base64
import grp
import imaplib
import itertools
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from socialdesk.connectors.email.tests.oauth_server import AuthorizationServer

DOVECOT = Path("/usr/sbin/dovecot")
PASSWORD = "a test password"
USERS = 500
_numbers = itertools.count(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _users() -> tuple[pwd.struct_passwd, str, str]:
    """Who owns the mail, and who Dovecot's login and internal processes run as.
    As root, Dovecot's own users (mail is never accessed as root); otherwise the
    current user for all of it, which Dovecot supports for unprivileged instances."""
    if os.getuid() == 0:
        return pwd.getpwnam("dovecot"), "dovenull", "dovecot"
    me = pwd.getpwuid(os.getuid())
    return me, me.pw_name, me.pw_name


def _config(root: Path, port: int, oauth: AuthorizationServer) -> str:
    mail_user, login_user, internal_user = _users()
    internal_group = grp.getgrgid(pwd.getpwnam(internal_user).pw_gid).gr_name
    return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
# Plain passwords over an unencrypted connection, on 127.0.0.1 only.
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = {mail_user.pw_uid}
last_valid_uid = {mail_user.pw_uid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
# Access tokens: asked about at the authorization server (RFC 7662).
passdb {{
  driver = oauth2
  args = {root}/oauth2.conf
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}
# No chroot: an unprivileged instance cannot, and a test needs none. No penalty
# for failed sign-ins from an address either: a test that uses a wrong password
# would slow down every later test's sign-in.
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def _oauth2_config(oauth: AuthorizationServer) -> str:
    return f"""
introspection_mode = post
introspection_url = {oauth.introspection_url}
username_attribute = username
active_attribute = active
active_value = true
"""


class Dovecot:
    def __init__(self, root: Path, port: int, oauth: AuthorizationServer):
        self.root, self.host, self.port = root, "127.0.0.1", port
        self.oauth = oauth

    def mailbox_address(self) -> str:
        """A mailbox of its own for each test, among those made at start."""
        number = next(_numbers)
        assert number <= USERS, f"more than {USERS} mailboxes: raise USERS"
        return f"care{number}@example.com"

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def _wait_for_greeting(server: Dovecot, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dovecot stopped at start:\n{server.log()}")
        try:
            with socket.create_connection((server.host, server.port), timeout=1) as s:
                if s.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"dovecot did not answer on port {server.port}:\n{server.log()}")


@contextmanager
def running_dovecot():
    """A private Dovecot, its own configuration, directory and port, until the
    block ends; every mailbox of mailbox_address() exists from the start."""
    # A short path of its own: Dovecot's sockets live under it (108-byte limit),
    # and the mail user must be able to enter it.
    root = Path(tempfile.mkdtemp(prefix="socialdesk-dovecot-"))
    root.chmod(0o755)
    mail_user = _users()[0]
    (root / "home").mkdir()
    os.chown(root / "home", mail_user.pw_uid, mail_user.pw_gid)
    # Every test's mailbox is in the passwd-file from the start: Dovecot reads the
    # file again when it changes, but not reliably within the same second.
    (root / "passwd").write_text("".join(f"care{n}@example.com:{{PLAIN}}{PASSWORD}::::::\n"
                                         for n in range(1, USERS + 1)))
    oauth = AuthorizationServer()
    oauth.start()
    server = Dovecot(root, free_port(), oauth)
    (root / "dovecot.conf").write_text(_config(root, server.port, oauth))
    (root / "oauth2.conf").write_text(_oauth2_config(oauth))
    process = subprocess.Popen([str(DOVECOT), "-F", "-c", str(root / "dovecot.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        _wait_for_greeting(server, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        oauth.stop()
        shutil.rmtree(root, ignore_errors=True)


class Mailbox:
    """A fresh mail account on the test server, filled the way mail arrives: APPEND."""

    def __init__(self, server: Dovecot, address: str):
        self.server, self.address = server, address

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.server.host, self.server.port, timeout=10)
        client.login(self.address, PASSWORD)
        return client

    def deliver(self, raw: bytes | str, folder: str = "INBOX", flags: str = "") -> None:
        raw = raw.encode() if isinstance(raw, str) else raw
        raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        client = self.client()
        try:
            status, said = client.append(folder, f"({flags})" if flags else None,
                                         imaplib.Time2Internaldate(time.time()), raw)
            assert status == "OK", said
        finally:
            client.logout()

    def flags(self, folder: str = "INBOX") -> list[bytes]:
        client = self.client()
        try:
            client.select(folder, readonly=True)
            status, data = client.fetch("1:*", "(FLAGS)")
            return [line for line in data if line]
        finally:
            client.logout()

    def messages(self, folder: str) -> list:
        """The messages in a folder, parsed."""
        client = self.client()
        try:
            status, _ = client.select(folder, readonly=True)
            if status != "OK":
                return []
            status, data = client.uid("FETCH", "1:*", "(BODY.PEEK[])")
            return [message_from_bytes(part[1], policy=policy.default)
                    for part in data if isinstance(part, tuple)]
        finally:
            client.logout()


class Collector:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self, oauth: AuthorizationServer | None = None):
        self.received: list = []
        self.refuse_recipients: dict[str, str] = {}  # address → the answer, e.g. "550 …"
        self.oauth = oauth
        self.signed_in: list[tuple[str, str]] = []  # (mechanism, login)

    async def auth_XOAUTH2(self, server, args):
        """XOAUTH2 as Gmail answers it: a refused token gets a 334 challenge with the
        error in JSON, the client answers it with an empty line, then 535."""
        try:
            said = base64.b64decode(args[1]).decode() if len(args) > 1 else ""
            fields = dict(part.split("=", 1) for part in said.split("\x01") if "=" in part)
        except ValueError:
            return AuthResult(success=False, handled=False)
        login, token = fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ")
        if self.oauth and login and self.oauth.owner(token) == login:
            self.signed_in.append(("XOAUTH2", login))
            return AuthResult(success=True, handled=False, auth_data=login)
        error = json.dumps({"status": "401", "schemes": "bearer", "scope": "https://mail"})
        await server.challenge_auth(base64.b64encode(error.encode()).decode(),
                                    encode_to_b64=False)
        return AuthResult(success=False, handled=False)  # aiosmtpd answers 535

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_recipients:
            return self.refuse_recipients[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos),
                              message_from_bytes(envelope.original_content,
                                                 policy=policy.default)))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, address: str, oauth: AuthorizationServer | None = None):
        self.collector = Collector(oauth)
        self.host, self.port = "127.0.0.1", free_port()
        self.address = address
        self.controller: Controller | None = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        good = (isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == self.address
                and auth_data.password.decode() == PASSWORD)
        # handled=False: aiosmtpd answers a refusal with its 535 itself.
        return AuthResult(success=good, handled=False)

    def start(self) -> None:
        # AUTH over a plain connection: the server is on 127.0.0.1 and the password
        # a test's; the connector refuses unencrypted sign-ins to any other host.
        self.controller = Controller(self.collector, hostname=self.host, port=self.port,
                                     authenticator=self._authenticate,
                                     auth_require_tls=False, auth_required=True)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self) -> list:
        return self.collector.received
