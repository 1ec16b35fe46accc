"""The signed webhook for listening tools: POST /api/v1/hooks/<slug>/posts."""

import hashlib
import hmac
import json
import time
import urllib.request

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from socialdesk.accounts.models import LoginAttempt
from socialdesk.audit.models import Event
from socialdesk.cases.models import Case
from socialdesk.connectors import credentials, webhook
from socialdesk.connectors.models import ChannelAccount, WebhookSource
from socialdesk.ingestion.models import Post

GOOD = {"channel": "x", "external_id": "w1", "author": "dana",
        "text": "the app logged me out again and I lost my basket",
        "created_at": "2026-11-16T09:00:00+00:00"}
URL = "/api/v1/hooks/listening/posts"


@pytest.fixture
def secret(db):
    return webhook.do_add_source("listening", "the listening tool")[1]


def send(client, secret, records=None, *, body=None, at=None, signature=None, url=URL):
    body = body if body is not None else json.dumps({"records": records or [GOOD]}).encode()
    timestamp = str(int(at if at is not None else time.time()))
    headers = {"HTTP_X_SOCIALDESK_TIMESTAMP": timestamp,
               "HTTP_X_SOCIALDESK_SIGNATURE": signature if signature is not None
               else webhook.signature(secret, timestamp, body)}
    return client.post(url, body, content_type="application/json", **headers)


def test_a_signed_batch_is_imported_and_processed(client, teams, secret):
    bad = {**GOOD, "external_id": "w2", "created_at": "yesterday"}
    response = send(client, secret, [GOOD, bad, GOOD])

    assert response.status_code == 200, response.content
    assert [r["status"] for r in response.json()["results"]] == \
        ["created", "rejected", "duplicate"]
    post = Post.objects.get()
    assert post.source == "webhook:listening" and post.processed_at and post.case_id
    assert Case.objects.count() == 1
    assert WebhookSource.objects.get().last_used_at is not None
    # A replay inside the window stores nothing twice.
    assert send(client, secret, [GOOD]).json()["results"][0]["status"] == "duplicate"


@pytest.mark.parametrize(("change", "status", "says"), [
    ({"signature": "v1=" + "0" * 64}, 401, "does not match"),
    ({"signature": ""}, 401, "missing"),
    ({"signature": "sha256=abc"}, 401, "64 hex digits"),
    ({"at": time.time() - 3600}, 401, "s old"),
    ({"at": time.time() + 3600}, 401, "ahead of the desk's clock"),
    ({"url": "/api/v1/hooks/nobody/posts"}, 404, "no webhook source 'nobody'"),
])
def test_what_is_refused_says_why_and_stores_nothing(client, teams, secret, change, status,
                                                     says):
    response = send(client, secret, **change)
    assert response.status_code == status
    assert says in response.json()["detail"]
    assert not Post.objects.exists()


def test_a_signature_over_another_body_or_secret_does_not_verify(client, teams, secret):
    timestamp = str(int(time.time()))
    other = json.dumps({"records": [{**GOOD, "text": "something else"}]}).encode()
    for signature in (webhook.signature(secret, timestamp, other),
                      webhook.signature("whsec_another", timestamp, other),
                      webhook.signature(secret, str(int(timestamp) - 1), other)):
        response = send(client, secret, [GOOD], signature=signature, at=int(timestamp))
        assert response.status_code == 401
    assert not Post.objects.exists()


def test_a_header_with_the_old_and_the_new_signature_verifies(client, teams, secret):
    source = WebhookSource.objects.get()
    new = webhook.do_rotate_secret(source)
    assert send(client, secret).status_code == 401  # the old secret stopped at once
    body = json.dumps({"records": [GOOD]}).encode()
    timestamp = str(int(time.time()))
    both = ", ".join(webhook.signature(s, timestamp, body) for s in (secret, new))
    response = send(client, None, body=body, at=int(timestamp), signature=both)
    assert response.status_code == 200


def test_a_paused_source_is_refused_until_resumed(client, teams, secret):
    source = WebhookSource.objects.get()
    webhook.do_set_active(source, False)
    assert send(client, secret).status_code == 403
    webhook.do_set_active(source, True)
    assert send(client, secret).status_code == 200
    assert list(Event.objects.filter(verb__startswith="webhook.").values_list("verb", flat=True)
                .order_by("id")) == ["webhook.added", "webhook.paused", "webhook.resumed"]


def test_an_oversize_body_is_refused_before_it_is_read(client, teams, secret, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 1000
    records = [{**GOOD, "external_id": f"w{i}"} for i in range(20)]
    response = send(client, secret, records)
    assert response.status_code == 413 and "1,000 bytes" in response.json()["detail"]


def test_a_body_that_is_not_json_is_refused_after_the_signature(client, teams, secret):
    assert send(client, secret, body=b"{not json").status_code == 400
    # Unsigned junk learns nothing about the schema: the signature is checked first.
    assert send(client, secret, body=b"{not json", signature="v1=" + "0" * 64).status_code == 401


def test_bad_signatures_are_throttled_per_address_and_a_good_one_still_passes(
        client, teams, secret, settings):
    settings.LOGIN_FAILURES_PER_IP = 3
    codes = [send(client, secret, signature="v1=" + "0" * 64).status_code for _ in range(5)]
    assert codes[:2] == [401, 401] and codes[-1] == 429
    assert LoginAttempt.objects.filter(kind=LoginAttempt.Kind.TOKEN).count() == 3
    assert send(client, secret).status_code == 200


def test_secrets_are_stored_encrypted_and_survive_a_key_rotation(secret, settings):
    stored = WebhookSource.objects.get().secret
    assert secret not in stored and credentials.decrypt(stored) == secret
    account = ChannelAccount(channel="email", handle="care@example.com")
    account.set_secrets({"password": "hunter2-mailbox"})
    account.save()
    assert "hunter2" not in account.credentials

    new_key = Fernet.generate_key().decode()
    settings.CREDENTIALS_KEYS = [new_key, *settings.CREDENTIALS_KEYS]
    call_command("webhook", "rekey")
    settings.CREDENTIALS_KEYS = [new_key]  # the old key dropped
    assert credentials.decrypt(WebhookSource.objects.get().secret) == secret
    assert ChannelAccount.objects.get().secrets() == {"password": "hunter2-mailbox"}

    settings.CREDENTIALS_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(credentials.CredentialError):
        credentials.decrypt(WebhookSource.objects.get().secret)


def test_source_names_are_checked(db):
    for slug in ("Upper", "a" * 25, "-edge", "sp ace", ""):
        with pytest.raises(webhook.WebhookError):
            webhook.do_add_source(slug)
    webhook.do_add_source("ok-1")
    with pytest.raises(webhook.WebhookError, match="exists already"):
        webhook.do_add_source("ok-1")


def test_the_documented_recipe_signs_what_the_desk_verifies(live_server, teams, secret):
    # What docs/CONNECTORS.md tells a sender to do, over HTTP.
    body = json.dumps({"records": [GOOD]}).encode()
    timestamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    request = urllib.request.Request(
        live_server.url + URL, data=body, method="POST",
        headers={"Content-Type": "application/json", "X-Socialdesk-Timestamp": timestamp,
                 "X-Socialdesk-Signature": f"v1={digest.hexdigest()}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert json.load(answer)["created"] == 1


def test_the_command_manages_sources(db, capsys):
    from django.core.management.base import CommandError

    call_command("webhook", "add", "tool-a", "--name", "Tool A")
    shown = capsys.readouterr().out
    assert "/api/v1/hooks/tool-a/posts" in shown
    secret = shown.split("secret (shown once): ")[1].strip()
    assert credentials.decrypt(WebhookSource.objects.get().secret) == secret

    call_command("webhook", "rotate", "tool-a")
    assert secret not in capsys.readouterr().out
    call_command("webhook", "pause", "tool-a")
    call_command("webhook", "list")
    assert "tool-a" in capsys.readouterr().out.splitlines()[-1]
    assert not WebhookSource.objects.get().is_active
    call_command("webhook", "remove", "tool-a")
    assert not WebhookSource.objects.exists()
    with pytest.raises(CommandError, match="no webhook source"):
        call_command("webhook", "pause", "tool-a")
    with pytest.raises(CommandError, match="not a source name"):
        call_command("webhook", "add", "Tool A")
