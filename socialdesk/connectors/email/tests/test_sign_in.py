"""An admin signs in to an OAuth mailbox through the provider's own page, from the
account's page in the desk: sent there with PKCE and a state, back with a code
the desk trades for the refresh token it keeps."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from socialdesk.audit.models import Event
from socialdesk.connectors import accounts
from socialdesk.connectors.email.tests.oauth_server import CLIENT_ID, CLIENT_SECRET
from socialdesk.connectors.email.tests.test_listening import mail, poll
from socialdesk.connectors.models import ChannelAccount
from socialdesk.ingestion.models import Post


@pytest.fixture
def waiting(db, mailbox):
    """An account connected with the app's OAuth settings, not signed in yet."""
    oauth = mailbox.server.oauth
    kind = accounts.kind_named("email")
    account, said = accounts.do_connect_account(
        kind=kind, channel="email", handle=mailbox.address, name="Care", given={
            "imap_host": mailbox.server.host, "imap_port": mailbox.server.port,
            "imap_security": "none", "oauth_token_url": oauth.token_url,
            "oauth_authorize_url": oauth.authorize_url, "oauth_client_id": CLIENT_ID,
            "oauth_client_secret": CLIENT_SECRET, "oauth_scope": "https://mail"})
    assert said.startswith("not signed in yet")
    return account


def sign_in_started(client, account) -> dict:
    """The admin presses "Sign in at the provider": the provider's page, its query."""
    response = client.post(reverse("web:channel_account_action", args=[account.pk]),
                           {"action": "sign_in"})
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == \
        account.config["oauth_authorize_url"]
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def back_from(client, url: str):
    parts = urlsplit(url)
    return client.get(parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()})


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_an_admin_signs_in_at_the_provider_and_the_mailbox_is_heard(
        client, admin_user, teams, mailbox, waiting):
    client.force_login(admin_user)
    page = client.get(reverse("web:channel_account", args=[waiting.pk]))
    assert b'value="sign_in">Sign in at the provider' in page.content

    query = sign_in_started(client, waiting)
    assert (query["client_id"], query["response_type"], query["code_challenge_method"],
            query["scope"], query["login_hint"]) == (CLIENT_ID, "code", "S256", "https://mail",
                                                     mailbox.address)
    assert query["redirect_uri"].endswith(reverse("web:channel_account_signed_in"))
    back = back_from(client, mailbox.server.oauth.authorize(query, mailbox.address))

    assert back.status_code == 302 and back["Location"] == reverse(
        "web:channel_account", args=[waiting.pk])
    assert said(back) == [f"{waiting} signed in: signed in to 127.0.0.1 as {mailbox.address} "
                          "with OAuth; INBOX holds 0 messages"]
    waiting.refresh_from_db()
    assert waiting.secrets()["oauth_refresh_token"] in mailbox.server.oauth.refresh_tokens
    assert Event.objects.filter(verb="account.signed_in", actor=admin_user).exists()
    mailbox.deliver(mail(1))
    assert poll(waiting).created == 1 and Post.objects.count() == 1


def test_a_return_the_desk_did_not_start_or_already_used_is_refused(
        client, admin_user, mailbox, waiting):
    client.force_login(admin_user)
    asked = mailbox.server.oauth.token_requests
    before = len(asked)
    query = sign_in_started(client, waiting)
    returned = mailbox.server.oauth.authorize(query, mailbox.address)
    forged = returned.replace(f"state={query['state']}", "state=someone-elses")
    refused = back_from(client, forged)
    assert "was not started from this desk" in said(refused)[0]

    assert back_from(client, returned).status_code == 302
    again = back_from(client, returned)  # the same code and state a second time
    assert "was not started from this desk" in said(again)[-1]
    # The code was traded once: neither refused return reached the provider.
    assert [r["grant_type"] for r in asked[before:]].count("authorization_code") == 1


def test_a_refused_sign_in_and_a_bad_code_say_so_and_keep_nothing(
        client, admin_user, mailbox, waiting):
    client.force_login(admin_user)
    query = sign_in_started(client, waiting)
    refused = client.get(reverse("web:channel_account_signed_in"), {
        "state": query["state"], "error": "access_denied",
        "error_description": "The user declined."})
    assert said(refused) == ["The provider did not sign you in: access_denied: The user "
                             "declined."]

    query = sign_in_started(client, waiting)
    bad = client.get(reverse("web:channel_account_signed_in"),
                     {"state": query["state"], "code": "not-a-code"})
    assert "the sign-in did not work: 127.0.0.1" in said(bad)[-1]
    assert "invalid_grant" in said(bad)[-1]
    waiting.refresh_from_db()
    assert "oauth_refresh_token" not in waiting.secrets()


def test_only_admins_sign_in_and_password_accounts_offer_no_sign_in(
        client, agent, admin_user, mailbox, waiting):
    client.force_login(agent)
    assert client.post(reverse("web:channel_account_action", args=[waiting.pk]),
                       {"action": "sign_in"}).status_code == 403
    assert client.get(reverse("web:channel_account_signed_in"),
                      {"state": "x", "code": "y"}).status_code == 403

    client.force_login(admin_user)
    password = ChannelAccount.objects.create(
        channel="email", handle="other@example.com", listener="email",
        config={"imap_host": "imap.example.com"})
    assert not accounts.offers_sign_in(password)
    assert b'value="sign_in"' not in client.get(
        reverse("web:channel_account", args=[password.pk])).content
    response = client.post(reverse("web:channel_account_action", args=[password.pk]),
                           {"action": "sign_in"}, follow=True)
    assert "does not sign in at a provider's page" in said(response)[0]


def test_the_sign_in_page_of_known_providers_needs_no_setting():
    from socialdesk.connectors.email.connector import EmailConnector

    for token_url, page in [
            ("https://oauth2.googleapis.com/token", "https://accounts.google.com/o/oauth2/v2/auth"),
            ("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
             "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize")]:
        account = ChannelAccount(channel="email", handle="care@example.com", config={
            "imap_host": "imap.example.com", "oauth_token_url": token_url,
            "oauth_client_id": "app"})
        assert EmailConnector().sign_in(account).authorize_url == page
    account.config["oauth_token_url"] = "https://login.example.com/token"
    with pytest.raises(Exception, match="oauth_authorize_url is missing"):
        EmailConnector().sign_in(account)
