"""Login throttling: failures per username and per address lock them out for a while,
in the database, for the login page, the admin's and API tokens alike."""

from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone

from conftest import make_user
from socialdesk.accounts import throttle
from socialdesk.accounts.models import LoginAttempt
from socialdesk.audit.models import Event

PASSWORD = "a long test password 1"  # conftest.make_user's
HOME = "203.0.113.7"
ELSEWHERE = "198.51.100.9"


@pytest.fixture(autouse=True)
def quick_hashes(settings):
    # Dozens of password checks a test: the real hasher's cost is not what is tested.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def login(client):
    def attempt(username, password, ip=HOME, path=None, **extra):
        return client.post(path or reverse("web:login"), {"username": username,
                                                          "password": password},
                           REMOTE_ADDR=ip, **extra)

    return attempt


def logged_in(client) -> bool:
    return SESSION_KEY in client.session


def age(minutes: int) -> None:
    """Move every failure and lockout `minutes` into the past."""
    for row in LoginAttempt.objects.all():
        row.at -= timedelta(minutes=minutes)
        if row.until:
            row.until -= timedelta(minutes=minutes)
        row.save()


def test_five_failures_lock_the_username_even_against_the_right_password(
        client, login, agent):
    for _ in range(4):
        response = login("alice", "wrong password")
        assert response.status_code == 200
        assert "correct username and password" in response.content.decode()
    fifth = login("alice", "wrong password")
    assert fifth.status_code == 429
    assert "Too many failed logins for this username: try again in 15 minutes" in \
        fifth.content.decode()
    assert int(fifth["Retry-After"]) == 15 * 60

    right = login("alice", PASSWORD)
    assert right.status_code == 429 and not logged_in(client)
    html = right.content.decode()
    assert "Too many failed logins for this username" in html
    assert 'name="username"' in html and 'name="password"' in html  # the form, to retry
    # Another address changes nothing: the username is what is locked.
    assert login("alice", PASSWORD, ip=ELSEWHERE).status_code == 429
    # The lock is on the name as typed in any case.
    assert login("ALICE ", PASSWORD).status_code == 429


def test_the_lockout_lasts_fifteen_minutes(client, login, agent):
    for _ in range(5):
        login("alice", "wrong password")
    age(14)
    assert login("alice", PASSWORD).status_code == 429
    age(2)
    response = login("alice", PASSWORD)
    assert response.status_code == 302 and logged_in(client)


def test_a_success_resets_the_usernames_count(client, login, agent):
    for _ in range(4):
        login("alice", "wrong password")
    assert login("alice", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert login("alice", "wrong password").status_code == 200
    assert login("alice", PASSWORD).status_code == 302


def test_failures_older_than_the_window_do_not_count(client, login, agent):
    for _ in range(4):
        login("alice", "wrong password")
    age(16)
    assert login("alice", "wrong password").status_code == 200
    assert login("alice", PASSWORD).status_code == 302


def test_twenty_failures_from_one_address_lock_it_for_every_username(client, login, agent,
                                                                      teammate):
    for i in range(19):
        assert login(f"guess{i}", "wrong password").status_code == 200
    assert login("guess19", "wrong password").status_code == 429
    response = login("bob", PASSWORD)
    assert response.status_code == 429 and not logged_in(client)
    assert "from your network address" in response.content.decode()
    # The same person from another address is let in.
    assert login("bob", PASSWORD, ip=ELSEWHERE).status_code == 302


def test_a_lockout_is_an_audit_event(login, agent):
    for _ in range(5):
        login("alice", "wrong password")
    event = Event.objects.get(verb="auth.locked_out")
    assert event.data["scope"] == "username" and event.data["username"] == "alice"
    assert event.data["ip"] is None and event.data["failures"] == 5
    # Refused attempts during the lockout start no second one.
    login("alice", "wrong password")
    assert Event.objects.filter(verb="auth.locked_out").count() == 1


def test_the_limits_are_settings(settings, login, agent):
    settings.LOGIN_FAILURES_PER_USER = 2
    settings.LOGIN_LOCKOUT_MINUTES = 1
    assert login("alice", "wrong password").status_code == 200
    response = login("alice", "wrong password")
    assert response.status_code == 429 and "try again in 1 minute." in response.content.decode()
    assert int(response["Retry-After"]) == 60


def test_the_admin_login_is_throttled_too(client, login, admin_user):
    for _ in range(5):
        login("ada", "wrong password")
    response = login("ada", PASSWORD, path=reverse("admin:login"))
    assert response.status_code == 429 and not logged_in(client)
    assert client.get(reverse("admin:index")).status_code == 302


def test_every_password_check_is_counted_not_only_the_login_page(client, agent):
    for _ in range(5):
        assert not client.login(username="alice", password="wrong password")
    assert not client.login(username="alice", password=PASSWORD)
    assert LoginAttempt.objects.filter(kind="lockout", scope="username").exists()


def test_behind_trusted_proxies_the_forwarded_address_counts(settings, client, login, agent):
    settings.TRUSTED_PROXIES = 1
    proxy = "10.0.0.2"
    for i in range(20):
        login(f"guess{i}", "wrong", ip=proxy, HTTP_X_FORWARDED_FOR=f"1.2.3.4, {HOME}")
    assert LoginAttempt.objects.filter(kind="lockout", ip=HOME).exists()
    # Others behind the same proxy are not locked out.
    assert login("alice", PASSWORD, ip=proxy,
                 HTTP_X_FORWARDED_FOR=ELSEWHERE).status_code == 302


def test_without_trusted_proxies_a_forged_forwarded_for_changes_nothing(settings, login, agent):
    settings.TRUSTED_PROXIES = 0
    for i in range(20):
        login(f"guess{i}", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
    assert login("alice", PASSWORD).status_code == 429


def test_old_rows_are_pruned(login, agent):
    login("alice", "wrong password")
    age(60)
    login("alice", "wrong password")
    assert LoginAttempt.objects.count() == 1
    # A lockout that has not ended yet stays, however long ago it began.
    LoginAttempt.objects.create(kind="lockout", scope="username", username="bob",
                                at=timezone.now() - timedelta(hours=2),
                                until=timezone.now() + timedelta(minutes=5))
    login("alice", "wrong password")
    assert LoginAttempt.objects.filter(kind="lockout", username="bob").exists()


def test_many_failed_api_tokens_lock_the_address_out_of_the_api(client, api_token, agent):
    def call(token, ip=HOME):
        return client.get("/api/v1/cases", HTTP_AUTHORIZATION=f"Bearer {token}",
                          REMOTE_ADDR=ip)

    for i in range(19):
        assert call(f"sdk_not-a-token-{i}").status_code == 401
    last = call("sdk_not-a-token-19")
    assert last.status_code == 401
    refused = call(api_token)
    assert refused.status_code == 429
    assert "failed API tokens from your network address" in refused.json()["detail"]
    # A client is told when to try again: the lockout's 15 minutes, give or take the run.
    assert 14 * 60 <= int(refused["Retry-After"]) <= 15 * 60
    assert call(api_token, ip=ELSEWHERE).status_code == 200
    # The OpenAPI document answers the same way.
    docs = client.get(reverse("api:openapi-json"), HTTP_AUTHORIZATION=f"Bearer {api_token}",
                      REMOTE_ADDR=HOME)
    assert docs.status_code == 429 and int(docs["Retry-After"]) > 0
    event = Event.objects.get(verb="auth.locked_out")
    assert event.data["scope"] == "token" and event.data["ip"] == HOME


def test_failed_tokens_do_not_lock_people_out_of_the_login_page(client, login, agent):
    for i in range(25):
        client.get("/api/v1/cases", HTTP_AUTHORIZATION=f"Bearer sdk_bad{i}", REMOTE_ADDR=HOME)
    assert login("alice", PASSWORD).status_code == 302


def test_a_request_without_a_token_is_not_a_failure(client, agent):
    for _ in range(25):
        assert client.get("/api/v1/cases", REMOTE_ADDR=HOME).status_code == 401
    assert not LoginAttempt.objects.exists()


def test_an_unknown_username_counts_like_a_known_one(login, db):
    make_user("zed")
    for _ in range(5):
        login("nobody-here", "wrong password")
    lockout = throttle.current_lockout(throttle.LOGIN, "nobody-here", ELSEWHERE)
    assert lockout is not None and lockout.scope == "username"


def test_odd_input_is_a_form_error_not_a_crash(client, login, agent):
    for username in ("al\x00ice", "x" * 5000, ""):
        response = login(username, "wrong password")
        assert response.status_code == 200, username
    assert client.get("/api/v1/cases", HTTP_AUTHORIZATION="Bearer sdk_\x00",
                      REMOTE_ADDR=HOME).status_code == 401
    response = client.post(reverse("web:login"), {"username": "alice", "password": PASSWORD},
                           REMOTE_ADDR="not an address")
    assert response.status_code == 302
