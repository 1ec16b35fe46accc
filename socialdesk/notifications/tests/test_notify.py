"""do_notify: one notification per person, one delivery per subscribed webhook,
sent only once the transaction commits."""

import contextlib
import json
from datetime import UTC, datetime, timedelta

from django.db import transaction

from socialdesk.notifications.actions import do_notify
from socialdesk.notifications.models import Notification, WebhookDelivery
from socialdesk.notifications.tasks import do_send_due_webhooks
from socialdesk.notifications.transport import WebhookNetworkError


def test_each_distinct_person_gets_one_notification_and_nobody_gets_one_for_none(
        agent, teammate, case):
    rows = do_notify("sla.warning", "C-1 is due in 10 minutes",
                     iter([agent, None, teammate, agent]), case=case)
    assert sorted(n.user.username for n in rows) == ["alice", "bob"]
    assert Notification.objects.filter(user=agent).count() == 1
    assert Notification.objects.filter(user=teammate).count() == 1
    assert Notification.objects.count() == 2


def test_notifying_nobody_writes_no_notification(db):
    assert do_notify("sla.warning", "nobody to tell", [None]) == []
    assert not Notification.objects.exists()


def test_a_webhook_gets_the_events_it_subscribes_to_and_no_others(agent, endpoint):
    breaches = endpoint(events=["sla.breached"], name="breaches")
    escalations = endpoint(events=["case.escalated"], name="escalations")
    everything = endpoint(events=[], name="everything")
    endpoint(events=["sla.breached"], name="off", active=False)
    do_notify("sla.breached", "C-1 breached its first response", [agent])
    assert sorted(d.endpoint.name for d in WebhookDelivery.objects.all()) == [
        "breaches", "everything"]
    assert not escalations.deliveries.exists()
    assert breaches.deliveries.get().status == WebhookDelivery.Status.PENDING
    assert everything.deliveries.count() == 1


def test_the_payload_names_the_event_the_case_and_who_was_told(agent, teammate, case,
                                                               endpoint):
    endpoint()
    at = datetime(2026, 11, 16, 9, 30, tzinfo=UTC)
    do_notify("sla.breached", "breached", [teammate, agent, agent], case=case, at=at,
              data={"due": datetime(2026, 11, 16, 9, 0, tzinfo=UTC), "priority": "P1"})
    payload = WebhookDelivery.objects.get().payload
    assert payload == {"event": "sla.breached", "text": "breached",
                       "at": "2026-11-16T09:30:00+00:00", "case": case.ref,
                       "case_id": case.pk, "notified": ["alice", "bob"],
                       "due": "2026-11-16 09:00:00+00:00", "priority": "P1"}


def test_webhooks_are_called_after_commit_and_not_before(
        agent, endpoint, receiver, django_capture_on_commit_callbacks):
    endpoint(events=["sla.breached"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        do_notify("sla.breached", "C-1 breached", [agent])
        assert receiver.calls == []
    assert len(callbacks) == 1
    assert len(receiver.calls) == 1
    assert json.loads(receiver.calls[0]["body"])["event"] == "sla.breached"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.attempts == 1 and delivery.delivered_at is not None


def test_a_rolled_back_notification_calls_no_webhook(
        agent, endpoint, receiver, django_capture_on_commit_callbacks):
    endpoint()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with contextlib.suppress(RuntimeError), transaction.atomic():
            do_notify("sla.breached", "C-1 breached", [agent])
            raise RuntimeError("the caller failed after notifying")
    assert callbacks == [] and receiver.calls == []
    assert not WebhookDelivery.objects.exists()


def test_a_failing_receiver_never_fails_the_caller(
        agent, endpoint, receiver, django_capture_on_commit_callbacks):
    endpoint()
    receiver.answers = [500] * 6
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        rows = do_notify("sla.breached", "C-1 breached", [agent])
    # One try as the caller commits, and no retries holding it up.
    assert len(callbacks) == 1 and len(receiver.calls) == 1
    assert [n.user for n in rows] == [agent]
    assert Notification.objects.filter(user=agent).count() == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.PENDING and delivery.attempts == 1
    assert delivery.last_error == "HTTP 500"
    # The clock's ticks retry it, and give up after the sixth attempt.
    for wait in [20, 40, 80, 160, 320]:
        assert do_send_due_webhooks(delivery.last_attempt_at + timedelta(seconds=wait)) == 1
        delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED and delivery.attempts == 6
    assert len(receiver.calls) == 6


def test_a_receiver_that_cannot_be_reached_never_fails_the_caller(
        agent, endpoint, receiver, django_capture_on_commit_callbacks):
    endpoint()
    receiver.answers = [WebhookNetworkError("timed out")]
    with django_capture_on_commit_callbacks(execute=True):
        do_notify("sla.breached", "C-1 breached", [agent])
    assert len(receiver.calls) == 1
    assert Notification.objects.filter(user=agent).count() == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert delivery.last_error == "network error: timed out"
