"""An account's settings, checked with a clear word on what to fix; and no network
step waits longer than the account's timeout."""

import socket
import threading
import time

import pytest

from socialdesk.connectors.base import ConnectorError, DeliveryError, Outgoing
from socialdesk.connectors.email.connector import EmailConnector
from socialdesk.connectors.email.settings import mail_settings
from socialdesk.connectors.models import ChannelAccount

GOOD = {"imap_host": "imap.example.com", "smtp_host": "smtp.example.com"}


def account(handle="care@example.com", secrets=None, **config) -> ChannelAccount:
    made = ChannelAccount(channel="email", handle=handle, listener="email", delivery="email",
                          config={**GOOD, **config})
    made.set_secrets({"password": "pw"} if secrets is None else secrets)
    return made


def test_sensible_defaults_fill_what_is_not_said():
    mail = mail_settings(account())
    assert (mail.imap.port, mail.imap.security, mail.imap.username) == (993, "ssl",
                                                                         "care@example.com")
    assert (mail.smtp.port, mail.folder, mail.sent_folder, mail.timeout) == (465, "INBOX",
                                                                             "Sent", 30)
    starttls = mail_settings(account(smtp_security="starttls",
                                     secrets={"password": "pw", "smtp_password": "other"}))
    assert (starttls.smtp.port, starttls.smtp.password, starttls.imap.password) == (
        587, "other", "pw")


@pytest.mark.parametrize(("changes", "kind", "says"), [
    ({"handle": "careteam"}, "permanent", "must be the mailbox's address"),
    ({"secrets": {}}, "reauthorise", "no password"),
    ({"imap_host": ""}, "permanent", "config.imap_host"),
    ({"imap_security": "tls"}, "permanent", "must be one of ssl, starttls, none"),
    ({"imap_security": "none"}, "permanent", "unencrypted to imap.example.com"),
    ({"smtp_port": "25x"}, "permanent", "config.smtp_port must be a port number"),
    ({"smtp_port": 70000}, "permanent", "config.smtp_port must be a port number"),
    ({"timeout": 0}, "permanent", "config.timeout"),
    ({"start": "yesterday"}, "permanent", "config.start"),
])
def test_bad_settings_are_refused_saying_what_to_fix(changes, kind, says):
    with pytest.raises(ConnectorError, match=says) as refused:
        mail_settings(account(**changes))
    assert refused.value.kind == kind


def test_an_account_without_an_smtp_server_listens_but_cannot_reply():
    listening = account(smtp_host="")
    assert mail_settings(listening).smtp is None
    with pytest.raises(DeliveryError, match="no SMTP server") as refused:
        EmailConnector().deliver(listening, Outgoing(
            reply_id=1, channel="email", text="Hi", visibility="private", in_reply_to="m1@x",
            recipient="dana@example.org", case_ref="C-1", key="k"))
    assert not refused.value.retryable


@pytest.fixture
def silent_server():
    """A server that takes connections and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    held = []

    def accept():
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for connection in held:
        connection.close()


def test_a_server_that_never_answers_is_given_up_on_after_the_timeout(silent_server):
    silent = account(imap_host="127.0.0.1", imap_port=silent_server, imap_security="none",
                     smtp_host="127.0.0.1", smtp_port=silent_server, smtp_security="none",
                     timeout=1)
    started = time.monotonic()
    with pytest.raises(ConnectorError) as listening:
        EmailConnector().fetch(silent, {}, 10)
    assert listening.value.kind == "retryable"
    with pytest.raises(DeliveryError) as sending:
        EmailConnector().deliver(silent, Outgoing(
            reply_id=1, channel="email", text="Hi", visibility="private", in_reply_to="m1@x",
            recipient="dana@example.org", case_ref="C-1", key="k"))
    assert sending.value.retryable and "timed out" in str(sending.value)
    assert time.monotonic() - started < 6
