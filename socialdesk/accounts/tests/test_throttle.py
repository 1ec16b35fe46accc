"""Login throttling: guessing is slowed per username and address, and per address, in
the database, for the login page, the admin's and API tokens alike; and others' failures
never refuse a valid token, nor the right password for a username they did not guess at."""

from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from conftest import make_user
from socialdesk.accounts import throttle
from socialdesk.accounts.actions import do_create_api_token
from socialdesk.accounts.models import LoginAttempt
from socialdesk.audit.models import Event

PASSWORD = "a long test password 1"  # conftest.make_user's
HOME = "203.0.113.7"
ELSEWHERE = "198.51.100.9"
PROXY = "10.0.0.2"


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


def test_five_failures_for_a_username_from_one_address_lock_it_out_from_there(
        client, login, agent):
    for _ in range(4):
        response = login("alice", "wrong password")
        assert response.status_code == 200
        assert "correct username and password" in response.content.decode()
    fifth = login("alice", "wrong password")
    assert fifth.status_code == 429
    assert ("Too many failed logins for this username from your network address: "
            "try again in 15 minutes") in fifth.content.decode()
    assert int(fifth["Retry-After"]) == 15 * 60

    # From there the password is no longer checked, so a guesser learns nothing more.
    right = login("alice", PASSWORD)
    assert right.status_code == 429 and not logged_in(client)
    html = right.content.decode()
    assert "Too many failed logins for this username" in html
    assert 'name="username"' in html and 'name="password"' in html  # the form, to retry
    # The lock is on the name as typed in any case.
    assert login("ALICE ", PASSWORD).status_code == 429


def test_failures_from_one_address_never_lock_the_owner_out_from_another(client, login,
                                                                        agent):
    for _ in range(12):
        login("alice", "wrong password")
    response = login("alice", PASSWORD, ip=ELSEWHERE)
    assert response.status_code == 302 and logged_in(client)


def test_guessers_at_many_addresses_each_get_their_own_few_guesses(login, agent):
    for i in range(10):
        for _ in range(5):
            login("alice", "wrong password", ip=f"192.0.2.{i}")
        assert login("alice", "wrong password", ip=f"192.0.2.{i}").status_code == 429
    assert login("alice", PASSWORD).status_code == 302


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


def test_failures_for_other_usernames_from_an_address_never_refuse_a_right_password(
        client, login, agent, teammate, admin_user):
    for i in range(40):
        login(f"guess{i}", "wrong password")
    assert LoginAttempt.objects.filter(kind="lockout", scope="login", ip=HOME).exists()
    response = login("bob", PASSWORD)
    assert response.status_code == 302 and logged_in(client)
    client.logout()
    response = login("ada", PASSWORD)  # the admin included
    assert response.status_code == 302 and logged_in(client)


def test_twenty_failures_from_one_address_leave_each_username_one_guess_there(
        client, login, agent):
    for i in range(19):
        assert login(f"guess{i}", "wrong password").status_code == 200
    twentieth = login("guess19", "wrong password")
    assert twentieth.status_code == 429
    assert ("Too many failed logins from your network address: for this username, "
            "try again in 15 minutes") in twentieth.content.decode()
    assert int(twentieth["Retry-After"]) == 15 * 60
    # A username that failed from there is refused there, unchecked, right password or not.
    assert login("guess3", "wrong password").status_code == 429
    assert LoginAttempt.objects.filter(kind="login", ip=HOME).count() == 20
    # A fresh one is checked once: wrong, and it is refused there too.
    assert login("alice", "wrong password").status_code == 429
    response = login("alice", PASSWORD)
    assert response.status_code == 429 and not logged_in(client)
    assert login("alice", PASSWORD, ip=ELSEWHERE).status_code == 302


def test_a_lockout_is_an_audit_event(login, agent):
    for _ in range(5):
        login("alice", "wrong password")
    event = Event.objects.get(verb="auth.locked_out")
    assert event.data["scope"] == "pair" and event.data["username"] == "alice"
    assert event.data["ip"] == HOME and event.data["failures"] == 5
    # Refused attempts during the lockout start no second one.
    login("alice", "wrong password")
    assert Event.objects.filter(verb="auth.locked_out").count() == 1
    # The same username from elsewhere is a lockout of its own.
    for _ in range(5):
        login("alice", "wrong password", ip=ELSEWHERE)
    assert Event.objects.filter(verb="auth.locked_out", data__ip=ELSEWHERE).count() == 1


def test_a_lockout_of_an_address_is_an_audit_event(login, db):
    for i in range(25):
        login(f"guess{i}", "wrong password")
    event = Event.objects.get(verb="auth.locked_out")
    assert event.data["scope"] == "login" and event.data["username"] is None
    assert event.data["ip"] == HOME and event.data["failures"] == 20


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
    assert LoginAttempt.objects.filter(kind="lockout", scope="pair").exists()


def test_behind_a_trusted_proxy_the_forwarded_address_counts(settings, client, login, agent):
    settings.TRUSTED_PROXY_ADDRESSES = ["10.0.0.0/24"]
    for i in range(20):
        # 1.2.3.4 is the client's own claim; HOME is what the proxy saw.
        login(f"guess{i}", "wrong", ip=PROXY, HTTP_X_FORWARDED_FOR=f"1.2.3.4, {HOME}")
    assert LoginAttempt.objects.filter(kind="lockout", ip=HOME).exists()
    assert not LoginAttempt.objects.filter(ip__in=["1.2.3.4", PROXY]).exists()
    # Others behind the same proxy are not refused, nor is a right password from HOME.
    assert login("alice", PASSWORD, ip=PROXY,
                 HTTP_X_FORWARDED_FOR=ELSEWHERE).status_code == 302
    client.logout()
    assert login("alice", PASSWORD, ip=PROXY, HTTP_X_FORWARDED_FOR=HOME).status_code == 302


def test_forwarded_headers_from_an_untrusted_address_are_ignored(settings, login, agent):
    settings.TRUSTED_PROXY_ADDRESSES = [PROXY]
    for i in range(5):
        # Each a different claimed address: none is believed, so all count against HOME.
        login("alice", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
    assert login("alice", PASSWORD, HTTP_X_FORWARDED_FOR=ELSEWHERE).status_code == 429
    assert set(LoginAttempt.objects.values_list("ip", flat=True)) == {HOME}


def test_without_trusted_proxies_a_forged_forwarded_for_changes_nothing(settings, login, agent):
    settings.TRUSTED_PROXY_ADDRESSES = []
    for i in range(20):
        login(f"guess{i}", "wrong", ip=PROXY, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
    assert set(LoginAttempt.objects.values_list("ip", flat=True)) == {PROXY}


def address_of(remote, forwarded=None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return throttle.client_ip(RequestFactory().get("/", **meta))


def test_the_forwarded_chain_is_read_from_the_right_past_trusted_proxies_only(settings):
    settings.TRUSTED_PROXY_ADDRESSES = ["10.0.0.0/24", "2001:db8::/64"]
    assert address_of(PROXY, f"1.2.3.4, {HOME}") == HOME
    # Two proxies in a row: the nearer one saw the other, which saw the client.
    assert address_of(PROXY, f"1.2.3.4, {HOME}, 10.0.0.9") == HOME
    assert address_of("2001:db8::5", f"{HOME}, 10.0.0.9") == HOME
    # Only proxies in the chain: the farthest is all there is to go on.
    assert address_of(PROXY, "10.0.0.9") == "10.0.0.9"
    # No header, or one that is not an address: the proxy that passed it on.
    assert address_of(PROXY) == PROXY
    assert address_of(PROXY, "unknown") == PROXY
    assert address_of(PROXY, f"{HOME}, unknown, 10.0.0.9") == "10.0.0.9"
    # Ports, brackets, and an IPv4 peer of a dual-stack socket.
    assert address_of(PROXY, f"{HOME}:51234") == HOME
    assert address_of(PROXY, "[2001:db8:1::7]:443") == "2001:db8:1::7"
    assert address_of(f"::ffff:{PROXY}", HOME) == HOME
    # From anyone else the header is not read at all.
    assert address_of(HOME, ELSEWHERE) == HOME
    assert address_of("10.0.1.2", ELSEWHERE) == "10.0.1.2"


def test_a_client_claiming_https_is_believed_only_through_a_trusted_proxy(settings, client):
    settings.TRUSTED_PROXY_ADDRESSES = [PROXY]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    page = reverse("web:login")
    assert client.get(page, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="https").status_code == 200
    redirected = client.get(page, REMOTE_ADDR=HOME, HTTP_X_FORWARDED_PROTO="https")
    assert redirected.status_code == 301 and redirected["Location"].startswith("https://")


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


@pytest.fixture
def call(client):
    def get(token, ip=HOME, path="/api/v1/cases"):
        return client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}", REMOTE_ADDR=ip)

    return get


def test_many_bad_api_tokens_from_an_address_get_429_for_its_bad_tokens(call, agent):
    for i in range(19):
        assert call(f"sdk_not-a-token-{i}").status_code == 401
    refused = call("sdk_not-a-token-19")
    assert refused.status_code == 429
    assert "failed API tokens from your network address" in refused.json()["detail"]
    # A client is told when to try again: the lockout's 15 minutes, give or take the run.
    assert 14 * 60 <= int(refused["Retry-After"]) <= 15 * 60
    assert call("sdk_not-a-token-20").status_code == 429
    assert call("sdk_not-a-token-21", ip=ELSEWHERE).status_code == 401
    # The OpenAPI document answers the same way.
    docs = call("sdk_not-a-token-22", path=reverse("api:openapi-json"))
    assert docs.status_code == 429 and int(docs["Retry-After"]) > 0
    event = Event.objects.get(verb="auth.locked_out")
    assert event.data["scope"] == "token" and event.data["ip"] == HOME


def test_junk_tokens_from_an_address_never_refuse_a_valid_token_from_it(call, api_token,
                                                                        admin_user):
    admin_token = do_create_api_token(admin_user, "tests")[1]
    for i in range(60):
        call(f"sdk_junk-{i}")
    assert call("sdk_junk").status_code == 429
    assert call(api_token).status_code == 200
    assert call(admin_token).status_code == 200
    assert call(admin_token, path=reverse("api:openapi-json")).status_code == 200


def test_a_flood_of_bad_tokens_writes_nothing_once_the_address_is_locked_out(call, agent):
    for i in range(20):
        call(f"sdk_junk-{i}")
    rows = LoginAttempt.objects.count()
    for i in range(30):
        assert call(f"sdk_more-junk-{i}").status_code == 429
    assert LoginAttempt.objects.count() == rows


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
    lockout = throttle.current_lockout(throttle.LOGIN, "nobody-here", HOME)
    assert lockout is not None and lockout.scope == "pair"
    assert throttle.current_lockout(throttle.LOGIN, "nobody-here", ELSEWHERE) is None


def test_odd_input_is_a_form_error_not_a_crash(client, login, agent):
    for username in ("al\x00ice", "x" * 5000, ""):
        response = login(username, "wrong password")
        assert response.status_code == 200, username
    assert client.get("/api/v1/cases", HTTP_AUTHORIZATION="Bearer sdk_\x00",
                      REMOTE_ADDR=HOME).status_code == 401
    response = client.post(reverse("web:login"), {"username": "alice", "password": PASSWORD},
                           REMOTE_ADDR="not an address")
    assert response.status_code == 302
