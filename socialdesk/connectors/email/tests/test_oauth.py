"""Signing in with OAuth 2.0 (XOAUTH2), as Microsoft 365 and Gmail ask: the real
Dovecot checks each access token with a local authorization server, which also
gives the tokens, rotates refresh tokens and refuses revoked ones."""

import pytest

from socialdesk.connectors.base import ConnectorError, DeliveryError, Outgoing
from socialdesk.connectors.email.connector import EmailConnector
from socialdesk.connectors.email.settings import mail_settings
from socialdesk.connectors.email.tests.oauth_server import CLIENT_ID, CLIENT_SECRET
from socialdesk.connectors.email.tests.test_listening import mail, poll
from socialdesk.connectors.listening import check_account
from socialdesk.connectors.models import ChannelAccount
from socialdesk.ingestion.models import Post


def oauth_account(mailbox, smtp=None, refresh_token=None, **secrets) -> ChannelAccount:
    oauth = mailbox.server.oauth
    account = ChannelAccount(
        channel="email", handle=mailbox.address, listener="email", delivery="email",
        config={"imap_host": mailbox.server.host, "imap_port": mailbox.server.port,
                "imap_security": "none", "timeout": 10, "oauth_token_url": oauth.token_url,
                "oauth_client_id": CLIENT_ID, "oauth_scope": "https://mail  offline_access",
                **({"smtp_host": smtp.host, "smtp_port": smtp.port, "smtp_security": "none"}
                   if smtp else {})})
    account.set_secrets({"oauth_client_secret": CLIENT_SECRET,
                         "oauth_refresh_token": refresh_token or oauth.grant(mailbox.address),
                         **secrets})
    account.save()
    return account


def reply(n: int = 1) -> Outgoing:
    return Outgoing(reply_id=n, channel="email", text="We are on it.", visibility="private",
                    in_reply_to="m1@mail.example.org", recipient="dana@example.org",
                    case_ref="C-1", key=f"reply-{n}", context={"subject": "Kettle"})


def asked_with(oauth, refresh_token: str) -> list[dict]:
    return [r for r in oauth.token_requests if r.get("refresh_token") == refresh_token]


def test_a_mailbox_is_read_and_answered_with_one_access_token(teams, mailbox, smtp_server):
    oauth = mailbox.server.oauth
    account = oauth_account(mailbox, smtp_server)
    refresh_token = account.secrets()["oauth_refresh_token"]
    mailbox.deliver(mail(1, "Kettle leaking"))

    assert check_account(account) == (True, f"signed in to 127.0.0.1 as {mailbox.address} "
                                            "with OAuth; INBOX holds 1 message")
    report = poll(account)
    assert (report.created, report.error) == (1, "")
    assert Post.objects.get().channel == "email"
    EmailConnector().deliver(account, reply())
    assert smtp_server.collector.signed_in == [("XOAUTH2", mailbox.address)]
    assert [to for _, to, _ in smtp_server.received] == [["dana@example.org"]]
    # One token for all of it, asked for as the provider documents it.
    [asked] = asked_with(oauth, refresh_token)
    assert asked == {"grant_type": "refresh_token", "refresh_token": refresh_token,
                     "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                     "scope": "https://mail offline_access"}


def test_a_rotated_refresh_token_replaces_the_stored_one(teams, mailbox, monkeypatch):
    oauth = mailbox.server.oauth
    monkeypatch.setattr(oauth, "rotate", True)
    monkeypatch.setattr(oauth, "lifetime", 30)  # under a minute: renewed at every sign-in
    account = oauth_account(mailbox)
    first = account.secrets()["oauth_refresh_token"]

    assert check_account(account)[0]
    account.refresh_from_db()
    second = account.secrets()["oauth_refresh_token"]
    assert second != first and first not in oauth.refresh_tokens
    mailbox.deliver(mail(1))
    assert poll(account).created == 1  # signed in with the new one: the old is gone
    account.refresh_from_db()
    assert account.secrets()["oauth_refresh_token"] not in (first, second)
    assert account.secrets()["oauth_client_secret"] == CLIENT_SECRET


def test_a_revoked_refresh_token_stops_fetching_until_someone_signs_in_again(
        teams, mailbox, monkeypatch):
    oauth = mailbox.server.oauth
    monkeypatch.setattr(oauth, "lifetime", 30)
    account = oauth_account(mailbox)
    oauth.revoke(mailbox.address)

    report = poll(account)
    assert "refused the OAuth request: invalid_grant: The refresh token has expired or " \
           "been revoked. (HTTP 400); sign in to the mailbox again" in report.error
    account.refresh_from_db()
    assert (account.error_kind, account.next_poll_at) == ("reauthorise", None)

    # An admin signs in again and gives the account the new refresh token.
    account.set_secrets({**account.secrets(), "oauth_refresh_token": oauth.grant(mailbox.address)})
    account.save()
    mailbox.deliver(mail(1))
    assert poll(account).created == 1


def test_an_access_token_revoked_early_is_replaced_at_the_next_try(
        teams, mailbox, smtp_server):
    oauth = mailbox.server.oauth
    account = oauth_account(mailbox, smtp_server)
    assert check_account(account)[0]
    oauth.access_tokens.clear()  # the refresh token still works

    with pytest.raises(ConnectorError, match="a new one is asked for") as refused:
        EmailConnector().fetch(account, {}, 10)
    assert refused.value.kind == ConnectorError.RETRYABLE
    assert EmailConnector().fetch(account, {}, 10).checkpoint["uid"] == 0

    oauth.access_tokens.clear()
    with pytest.raises(DeliveryError, match="a new one is asked for") as not_sent:
        EmailConnector().deliver(account, reply())
    assert not_sent.value.retryable and not smtp_server.received
    EmailConnector().deliver(account, reply())
    assert len(smtp_server.received) == 1


def test_a_fresh_token_the_server_refuses_needs_a_person(teams, mailbox):
    # Signed in as another mailbox: the token is good, but not for this one.
    other = mailbox.server.mailbox_address()
    account = oauth_account(mailbox, refresh_token=mailbox.server.oauth.grant(other))
    with pytest.raises(ConnectorError, match="refused the OAuth sign-in as .*check that the "
                                             "app may use IMAP") as refused:
        EmailConnector().fetch(account, {}, 10)
    assert refused.value.kind == ConnectorError.REAUTHORISE


def test_the_token_endpoint_down_is_waited_for_and_a_wrong_secret_is_not(
        teams, mailbox, smtp_server, monkeypatch):
    oauth = mailbox.server.oauth
    monkeypatch.setattr(oauth, "unavailable", True)
    account = oauth_account(mailbox, smtp_server)
    with pytest.raises(ConnectorError, match="unavailable .*HTTP 503") as down:
        EmailConnector().fetch(account, {}, 10)
    assert down.value.kind == ConnectorError.RETRYABLE
    with pytest.raises(DeliveryError, match="unavailable") as not_sent:
        EmailConnector().deliver(account, reply())
    assert not_sent.value.retryable

    monkeypatch.setattr(oauth, "unavailable", False)
    account.set_secrets({**account.secrets(), "oauth_client_secret": "not the secret"})
    with pytest.raises(ConnectorError, match="invalid_client") as refused:
        EmailConnector().fetch(account, {}, 10)
    assert refused.value.kind == ConnectorError.REAUTHORISE
    with pytest.raises(DeliveryError, match="invalid_client") as not_sent:
        EmailConnector().deliver(account, reply())
    assert not not_sent.value.retryable and not smtp_server.received


def test_an_unreachable_token_endpoint_is_waited_for(teams, mailbox):
    account = oauth_account(mailbox)
    account.config["oauth_token_url"] = "http://127.0.0.1:9/token"
    with pytest.raises(ConnectorError, match="cannot reach the OAuth token endpoint") as down:
        EmailConnector().fetch(account, {}, 10)
    assert down.value.kind == ConnectorError.RETRYABLE


@pytest.mark.parametrize(("changes", "kind", "says"), [
    ({"oauth_token_url": "http://login.example.com/token"}, "permanent", "must use https"),
    ({"oauth_token_url": "ftp://login.example.com/token"}, "permanent", "provider's address"),
    ({"oauth_client_id": ""}, "permanent", "oauth_client_id is missing"),
    ({"secrets": {}}, "reauthorise", "not signed in to the mailbox yet"),
])
def test_oauth_settings_are_checked_saying_what_to_fix(changes, kind, says):
    secrets = changes.pop("secrets", {"oauth_refresh_token": "r"})
    account = ChannelAccount(channel="email", handle="care@example.com", config={
        "imap_host": "imap.example.com", "oauth_token_url": "https://login.example.com/token",
        "oauth_client_id": "app", **changes})
    account.set_secrets(secrets)
    with pytest.raises(ConnectorError, match=says) as refused:
        mail_settings(account)
    assert refused.value.kind == kind


def test_a_relay_with_its_own_password_takes_it_and_the_mailbox_its_token():
    account = ChannelAccount(channel="email", handle="care@example.com", config={
        "imap_host": "imap.example.com", "smtp_host": "relay.example.com",
        "oauth_token_url": "https://login.example.com/token", "oauth_client_id": "app"})
    account.set_secrets({"oauth_refresh_token": "the-refresh-token", "smtp_password": "relay"})
    mail = mail_settings(account)
    assert mail.imap.oauth and not mail.imap.password
    assert (mail.smtp.oauth, mail.smtp.password) == (None, "relay")
    # Secrets stay out of logs and tracebacks.
    assert "the-refresh-token" not in repr(mail.imap.oauth)
