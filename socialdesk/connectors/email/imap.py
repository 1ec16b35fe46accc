"""The IMAP side: signing in with a timeout on every socket, and the server's
refusals turned into the desk's error kinds."""

import imaplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import (
    MailboxFolderSelectError,
    MailboxLoginError,
    MailboxStarttlsError,
    UnexpectedCommandStatusError,
)

from socialdesk.connectors.base import ConnectorError
from socialdesk.connectors.email.settings import MailSettings


def server_says(error: Exception) -> str:
    """The server's own words in an imap_tools or imaplib error."""
    result = getattr(error, "command_result", None)
    if result and len(result) > 1:
        lines = result[1] if isinstance(result[1], list) else [result[1]]
        said = " ".join(x.decode(errors="replace") if isinstance(x, bytes) else str(x)
                        for x in lines if x)
        return said.strip() or str(result[0])
    return str(error) or type(error).__name__


@contextmanager
def signed_in(mail: MailSettings) -> Iterator[MailBox]:
    """A signed-in IMAP session, logged out after. ConnectorError: reauthorise when
    the server refuses the credentials, retryable when it cannot be reached or
    drops the connection, permanent for settings it cannot work with."""
    server = mail.imap
    where = f"{server.host}:{server.port}"
    # Asked for before connecting: a provider that refuses it needs no connection.
    token, kept = server.oauth.access_token() if server.oauth else ("", False)
    try:
        if server.security == "ssl":
            box = MailBox(server.host, server.port, timeout=mail.timeout,
                          ssl_context=ssl.create_default_context())
        elif server.security == "starttls":
            box = MailBoxStartTls(server.host, server.port, timeout=mail.timeout,
                                  ssl_context=ssl.create_default_context())
        else:
            box = MailBoxUnencrypted(server.host, server.port, timeout=mail.timeout)
    except ssl.SSLCertVerificationError as e:
        raise ConnectorError(f"{where}: the server's certificate is not trusted: "
                             f"{e.verify_message}", ConnectorError.PERMANENT) from e
    except MailboxStarttlsError as e:
        raise ConnectorError(f"{where} does not offer STARTTLS ({server_says(e)}): use "
                             "imap_security ssl", ConnectorError.PERMANENT) from e
    except (OSError, imaplib.IMAP4.error) as e:
        raise ConnectorError(f"cannot reach the IMAP server {where}: {e}") from e
    try:
        try:
            if server.oauth:
                # imaplib raises its NO to AUTHENTICATE as an error of its own.
                try:
                    box.xoauth2(server.username, token, initial_folder=None)
                except imaplib.IMAP4.abort:
                    raise
                except imaplib.IMAP4.error as e:
                    raise MailboxLoginError(("NO", [str(e).encode()]), "OK") from e
            else:
                box.login(server.username, server.password, initial_folder=None)
        except MailboxLoginError as e:
            raise server.refused(token, kept, server_says(e)) from e
        yield box
    except MailboxFolderSelectError as e:
        raise ConnectorError(f"{server.host}: cannot open the folder: {server_says(e)}",
                             ConnectorError.PERMANENT) from e
    except UnexpectedCommandStatusError as e:
        raise ConnectorError(f"{server.host}: {server_says(e)}") from e
    except (OSError, imaplib.IMAP4.error) as e:
        # Dropped connections (IMAP4.abort), timeouts, BAD answers: worth another try.
        raise ConnectorError(f"IMAP server {where}: {str(e) or type(e).__name__}") from e
    finally:
        _close(box)


def _close(box) -> None:
    try:
        box.logout()
    except Exception:  # noqa: BLE001 - the session is over either way: free the socket
        with suppress(Exception):
            box.client.shutdown()
