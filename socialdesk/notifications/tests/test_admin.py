"""The admin: endpoints with a write-only secret and a list of events; deliveries
and notifications read-only, with a retry for failed deliveries."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from socialdesk.audit.models import Event
from socialdesk.notifications.actions import do_queue_webhooks
from socialdesk.notifications.admin import WebhookEndpointForm
from socialdesk.notifications.models import WebhookDelivery, WebhookEndpoint

Status = WebhookDelivery.Status


def endpoint_form(instance=None, **data):
    fields = {"name": "ops", "url": "https://hooks.example/ops", "secret": "s" * 16,
              "events": '["sla.breached"]', "active": "on", **data}
    return WebhookEndpointForm(fields, instance=instance)


def test_events_must_be_a_list_of_names():
    assert endpoint_form(events="[]").is_valid()
    form = endpoint_form(events='["sla.breached", " case.escalated", "sla.breached"]')
    assert form.is_valid() and form.cleaned_data["events"] == ["sla.breached", "case.escalated"]
    for bad in ['"sla.breached"', '{"sla.breached": true}', "[1, 2]", '[""]', '[["a"]]']:
        assert not endpoint_form(events=bad).is_valid(), bad


def test_a_new_endpoint_needs_a_secret_of_sixteen_characters():
    assert not endpoint_form(secret="").is_valid()
    assert not endpoint_form(secret="short").is_valid()


def test_a_blank_secret_keeps_the_current_one(db):
    endpoint = WebhookEndpoint.objects.create(name="ops", url="https://hooks.example/ops",
                                              secret="the-original-secret")
    form = endpoint_form(instance=endpoint, secret="")
    assert form.is_valid(), form.errors
    assert form.save().secret == "the-original-secret"


def test_the_secret_is_never_shown_back(client, admin_user):
    endpoint = WebhookEndpoint.objects.create(name="ops", url="https://hooks.example/ops",
                                              secret="the-original-secret-wxyz")
    client.force_login(admin_user)
    listing = client.get(reverse("admin:notifications_webhookendpoint_changelist"))
    assert "…wxyz" in listing.content.decode()
    for response in [listing, client.get(reverse("admin:notifications_webhookendpoint_change",
                                                  args=[endpoint.pk]))]:
        assert "the-original-secret" not in response.content.decode()


@pytest.fixture
def deliveries(db, django_capture_on_commit_callbacks):
    WebhookEndpoint.objects.create(name="ops", url="https://hooks.example/ops", secret="s" * 16)
    with django_capture_on_commit_callbacks(execute=False):
        rows = [do_queue_webhooks("sla.breached", {"n": i})[0] for i in range(5)]
    long_ago = timezone.now() - timedelta(hours=1)
    WebhookDelivery.objects.filter(pk=rows[0].pk).update(status=Status.FAILED, attempts=6,
                                                         last_error="HTTP 503")
    WebhookDelivery.objects.filter(pk=rows[1].pk).update(status=Status.DELIVERED, attempts=1)
    WebhookDelivery.objects.filter(pk=rows[2].pk).update(status=Status.SENDING,
                                                         last_attempt_at=long_ago)
    WebhookDelivery.objects.filter(pk=rows[3].pk).update(status=Status.SENDING,
                                                         last_attempt_at=timezone.now())
    return rows


def test_retry_sends_failed_pending_and_abandoned_deliveries_again_after_commit(
        client, admin_user, deliveries, receiver, django_capture_on_commit_callbacks):
    failed, delivered, abandoned, in_flight, never_queued = deliveries
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:notifications_webhookdelivery_changelist"), {
            "action": "retry", "_selected_action": [d.pk for d in deliveries]})
    assert response.status_code == 302
    assert sorted(int(c["headers"]["X-Socialdesk-Delivery"]) for c in receiver.calls) == [
        failed.pk, abandoned.pk, never_queued.pk]
    statuses = dict(WebhookDelivery.objects.values_list("pk", "status"))
    assert statuses == {failed.pk: Status.DELIVERED, delivered.pk: Status.DELIVERED,
                        abandoned.pk: Status.DELIVERED, in_flight.pk: Status.SENDING,
                        never_queued.pk: Status.DELIVERED}
    failed.refresh_from_db()
    assert failed.attempts == 1 and failed.last_error == ""  # a fresh round of retries
    event = Event.objects.get(verb="webhook.retried")
    assert event.actor == admin_user
    assert sorted(event.data["deliveries"]) == [failed.pk, abandoned.pk, never_queued.pk]


def test_deliveries_and_notifications_cannot_be_edited_in_the_admin(client, admin_user,
                                                                    deliveries):
    client.force_login(admin_user)
    for model in ["webhookdelivery", "notification"]:
        assert client.get(reverse(f"admin:notifications_{model}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:notifications_{model}_add")).status_code == 403
    change = reverse("admin:notifications_webhookdelivery_change", args=[deliveries[0].pk])
    assert client.get(change).status_code == 200
    client.post(change, {"status": "delivered"})
    deliveries[0].refresh_from_db()
    assert deliveries[0].status == Status.FAILED
