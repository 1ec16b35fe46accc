"""The e-mail connector's tests run against real mail servers (servers.py): a
private Dovecot for the test session and an aiosmtpd server per test.

Without Dovecot the tests that need it are skipped, except in CI (CI=true),
where they fail.
"""

import os

import pytest

from socialdesk.connectors.email.tests.servers import (
    DOVECOT,
    PASSWORD,
    Mailbox,
    SmtpServer,
    running_dovecot,
)
from socialdesk.connectors.models import ChannelAccount


def pytest_configure(config):
    # The test SMTP server takes AUTH without TLS on purpose: 127.0.0.1, a test password.
    config.addinivalue_line("filterwarnings",
                            "ignore:Requiring AUTH while not requiring TLS:UserWarning")


@pytest.fixture(scope="session")
def dovecot():
    if not DOVECOT.exists():
        reason = f"{DOVECOT} is not installed: run scripts/install-mail-server"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with running_dovecot() as server:
        yield server


@pytest.fixture
def mailbox(dovecot) -> Mailbox:
    return Mailbox(dovecot, dovecot.mailbox_address())


@pytest.fixture
def smtp_server(mailbox):
    server = SmtpServer(mailbox.address, mailbox.server.oauth)
    server.start()
    yield server
    server.stop()


def make_account(mailbox: Mailbox, smtp: SmtpServer | None = None, password: str = PASSWORD,
                 **config) -> ChannelAccount:
    account = ChannelAccount(
        channel="email", handle=mailbox.address, name="Kettle Co Care",
        listener="email", delivery="email",
        config={"imap_host": mailbox.server.host, "imap_port": mailbox.server.port,
                "imap_security": "none", "timeout": 10,
                **({"smtp_host": smtp.host, "smtp_port": smtp.port, "smtp_security": "none"}
                   if smtp else {}),
                **config})
    account.set_secrets({"password": password})
    account.save()
    return account
