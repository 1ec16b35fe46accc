"""API tokens on the person's own page: listed, created (shown once, stored hashed),
revoked; admins revoke anyone's in the admin site; and the change-password page."""

import hashlib
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from socialdesk.accounts.actions import do_create_api_token
from socialdesk.accounts.models import ApiToken
from socialdesk.accounts.queries import user_for_api_token
from socialdesk.audit.models import Event

PASSWORD = "a long test password 1"  # conftest.make_user's


@pytest.fixture(autouse=True)
def quick_hashes(settings):
    # Users are made with a password: the real hasher's cost is not what is tested.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def api(client, token):
    return client.get("/api/v1/cases", HTTP_AUTHORIZATION=f"Bearer {token}")


def create(client, name="CRM sync"):
    return client.post(reverse("account:tokens"), {"name": name})


def test_the_page_lists_only_the_users_own_tokens(client, agent, outsider):
    do_create_api_token(agent, "CRM sync")
    do_create_api_token(outsider, "mallory's script")
    client.force_login(agent)
    response = client.get(reverse("account:tokens"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "CRM sync" in html and "mallory" not in html.split("<main")[1]
    assert "never" in html  # last used


def test_a_new_token_is_shown_once_and_stored_only_as_a_hash(client, agent):
    client.force_login(agent)
    response = create(client)
    assert response.status_code == 201
    secret = response.context["secret"]
    assert secret.startswith("sdk_") and secret in response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0")
    row = ApiToken.objects.get(user=agent)
    assert row.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(ApiToken.objects.values().get())
    assert secret not in client.get(reverse("account:tokens")).content.decode()
    assert api(client, secret).status_code == 200
    event = Event.objects.get(verb="api_token.created")
    assert (event.actor, event.data["owner"], event.data["name"]) == (agent, "alice", "CRM sync")


def test_a_token_without_a_name_is_refused_with_a_message(client, agent):
    client.force_login(agent)
    for data in ({"name": "   "}, {}):
        response = client.post(reverse("account:tokens"), data)
        assert response.status_code == 422
        assert "This field is required." in response.content.decode()
    response = create(client, name="x" * 101)
    assert response.status_code == 422
    assert "at most 100 characters" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoking_a_token_stops_it_at_once(client, agent):
    row, secret = do_create_api_token(agent, "old script")
    client.force_login(agent)
    assert api(client, secret).status_code == 200
    response = client.post(reverse("account:revoke_token", args=[row.pk]), follow=True)
    assert "revoked: it no longer works" in response.content.decode()
    assert api(client, secret).status_code == 401
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert Event.objects.get(verb="api_token.revoked").actor == agent
    # Again: nothing changes, and it says so.
    again = client.post(reverse("account:revoke_token", args=[row.pk]), follow=True)
    assert "was revoked already" in again.content.decode()
    assert Event.objects.filter(verb="api_token.revoked").count() == 1


def test_nobody_revokes_another_users_token_from_the_page(client, agent, outsider,
                                                          admin_user):
    row, secret = do_create_api_token(agent, "CRM sync")
    for user in (outsider, admin_user):
        client.force_login(user)
        assert client.post(reverse("account:revoke_token", args=[row.pk])).status_code == 404
    assert client.get(reverse("account:revoke_token", args=[row.pk])).status_code == 405
    row.refresh_from_db()
    assert row.revoked_at is None and user_for_api_token(secret) == agent


def test_an_admin_revokes_anyones_token_in_the_admin_site(client, agent, admin_user):
    row, secret = do_create_api_token(agent, "CRM sync")
    client.force_login(admin_user)
    changelist = reverse("admin:accounts_apitoken_changelist")
    response = client.post(changelist, {"action": "revoke", "_selected_action": [row.pk]},
                           follow=True)
    assert "1 token revoked." in response.content.decode()
    assert user_for_api_token(secret) is None
    assert Event.objects.get(verb="api_token.revoked").actor == admin_user


def test_the_admin_site_cannot_un_revoke_or_edit_a_token(client, agent, admin_user):
    row, _ = do_create_api_token(agent, "CRM sync")
    client.force_login(admin_user)
    html = client.get(reverse("admin:accounts_apitoken_change", args=[row.pk])).content.decode()
    assert 'name="revoked_at' not in html and 'name="name"' not in html


def test_last_used_is_written_at_most_once_a_minute(agent):
    row, secret = do_create_api_token(agent, "CRM sync")
    assert user_for_api_token(secret) == agent
    row.refresh_from_db()
    first = row.last_used_at
    assert first is not None
    with CaptureQueriesContext(connection) as queries:
        assert user_for_api_token(secret) == agent
    assert not [q for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    row.refresh_from_db()
    assert row.last_used_at == first
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=first - timedelta(minutes=2))
    user_for_api_token(secret)
    row.refresh_from_db()
    assert row.last_used_at > first - timedelta(minutes=2)


def test_the_user_menu_links_to_the_tokens_page(client, agent):
    client.force_login(agent)
    html = client.get(reverse("account:password")).content.decode()
    assert f'href="{reverse("account:tokens")}"' in html


def test_the_command_line_says_when_a_token_was_revoked_already(agent, capsys):
    row, _ = do_create_api_token(agent, "cli")
    call_command("api_token", "alice", "--revoke", row.prefix)
    call_command("api_token", "alice", "--revoke", row.prefix)
    out = capsys.readouterr().out
    assert "revoked cli" in out and "was revoked already" in out


@pytest.fixture
def password_page(client, agent):
    agent.set_password(PASSWORD)
    agent.first_name = "Wilhelmina"
    agent.save()
    client.force_login(agent)
    return reverse("account:password")


def change(client, url, old, new, again=None):
    return client.post(url, {"old_password": old, "new_password1": new,
                             "new_password2": new if again is None else again})


@pytest.mark.parametrize(("new", "message"), [
    ("kettle99", "too short. It must contain at least 10 characters"),
    ("password123", "This password is too common."),
    ("4815162342108", "This password is entirely numeric."),
    ("wilhelmina!", "too similar to the first name"),
])
def test_the_password_validators_apply(client, agent, password_page, new, message):
    response = change(client, password_page, PASSWORD, new)
    assert response.status_code == 422
    assert message in response.content.decode()
    agent.refresh_from_db()
    assert agent.check_password(PASSWORD)


def test_a_wrong_old_password_is_refused(client, agent, password_page):
    response = change(client, password_page, "not my password", "a new and long passphrase")
    assert response.status_code == 422
    assert "Your old password was entered incorrectly" in response.content.decode()


def test_a_password_change_keeps_this_session_and_is_audited(client, agent, password_page):
    response = change(client, password_page, PASSWORD, "a new and long passphrase")
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.check_password("a new and long passphrase")
    assert "Your password was changed." in client.get(password_page).content.decode()
    assert Event.objects.get(verb="account.password_changed").actor == agent
