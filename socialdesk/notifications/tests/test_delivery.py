"""deliver_webhook: signed calls, retries with backoff for what may pass, a final
failure for what will not, and never the same delivery sent twice.

In the embedded (eager) mode a retry waits for the clock (do_send_due_webhooks);
in the scale-out mode Celery retries the task after the same backoff."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from celery.exceptions import Retry

from socialdesk.notifications.actions import do_queue_webhooks
from socialdesk.notifications.models import WebhookDelivery
from socialdesk.notifications.signing import verify_signature
from socialdesk.notifications.tasks import backoff, deliver_webhook, do_send_due_webhooks
from socialdesk.notifications.tests.conftest import SECRET
from socialdesk.notifications.transport import WebhookNetworkError

Status = WebhookDelivery.Status


@pytest.fixture
def delivery(endpoint, django_capture_on_commit_callbacks):
    endpoint()
    # Queued without running: each test runs the task itself.
    with django_capture_on_commit_callbacks(execute=False):
        [queued] = do_queue_webhooks("sla.breached", {"event": "sla.breached", "case": "C-7"})
    return queued


@pytest.fixture
def countdowns(monkeypatch):
    """The backoff asked of Celery at each retry: never, in the eager mode."""
    asked = []
    retry = deliver_webhook.retry

    def spy(*args, **kwargs):
        asked.append(kwargs["countdown"])
        return retry(*args, **kwargs)

    monkeypatch.setattr(deliver_webhook, "retry", spy)
    return asked


def run(delivery) -> WebhookDelivery:
    deliver_webhook.delay(delivery.pk)
    delivery.refresh_from_db()
    return delivery


def tick_after(delivery, seconds: int) -> int:
    """The clock's webhook step, `seconds` after the delivery's last attempt."""
    delivery.refresh_from_db()
    return do_send_due_webhooks(delivery.last_attempt_at + timedelta(seconds=seconds))


def retry_on_the_clock(delivery, waits: list[int], receiver) -> WebhookDelivery:
    """One tick a second before each backoff is over (nothing is sent), one as
    it ends (the retry is sent)."""
    for wait in waits:
        assert delivery.status == Status.PENDING
        calls = len(receiver.calls)
        assert tick_after(delivery, wait - 1) == 0
        assert len(receiver.calls) == calls
        assert tick_after(delivery, wait) == 1
        assert len(receiver.calls) == calls + 1
        delivery.refresh_from_db()
    return delivery


def test_a_delivery_is_a_signed_json_post(delivery, receiver):
    assert run(delivery).status == Status.DELIVERED
    [call] = receiver.calls
    assert call["url"] == "https://hooks.example/ops"
    assert json.loads(call["body"]) == {"event": "sla.breached", "case": "C-7"}
    headers = call["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "socialdesk-webhooks"
    assert headers["X-Socialdesk-Event"] == "sla.breached"
    assert headers["X-Socialdesk-Delivery"] == str(delivery.pk)
    assert verify_signature(SECRET, headers["X-Socialdesk-Signature"], call["body"])
    assert not verify_signature("not-the-secret", headers["X-Socialdesk-Signature"],
                                call["body"])


@pytest.mark.parametrize("code", [200, 202, 204])
def test_any_2xx_answer_delivers(delivery, receiver, code):
    receiver.answers = [code]
    delivery = run(delivery)
    assert delivery.status == Status.DELIVERED
    assert delivery.delivered_at is not None and delivery.last_error == ""
    assert delivery.attempts == 1


def test_a_server_error_and_a_network_error_are_retried_with_backoff(
        delivery, receiver, countdowns):
    receiver.answers = [500, WebhookNetworkError("connection refused"), 429, 204]
    assert deliver_webhook.delay(delivery.pk).get() == "retrying"
    delivery.refresh_from_db()
    # Not retried inline: the caller is not held up, the row waits for the clock.
    assert len(receiver.calls) == 1 and countdowns == []
    assert delivery.status == Status.PENDING and delivery.attempts == 1
    assert delivery.last_error == "HTTP 500" and delivery.delivered_at is None
    delivery = retry_on_the_clock(delivery, [20, 40, 80], receiver)
    assert delivery.status == Status.DELIVERED
    assert delivery.attempts == len(receiver.calls) == 4
    assert delivery.last_error == "" and delivery.delivered_at is not None
    assert countdowns == []
    # Each attempt is signed afresh, over the same bytes.
    assert len({c["body"] for c in receiver.calls}) == 1


def test_each_failed_retry_records_its_error_and_waits_longer(delivery, receiver):
    receiver.answers = [500, WebhookNetworkError("connection refused"), 429]
    delivery = run(delivery)
    delivery = retry_on_the_clock(delivery, [20], receiver)
    assert delivery.status == Status.PENDING and delivery.attempts == 2
    assert delivery.last_error == "network error: connection refused"
    delivery = retry_on_the_clock(delivery, [40], receiver)
    assert delivery.status == Status.PENDING and delivery.attempts == 3
    assert delivery.last_error == "HTTP 429"


def test_a_client_error_fails_at_once(delivery, receiver, countdowns):
    receiver.answers = [400]
    delivery = run(delivery)
    assert delivery.status == Status.FAILED
    assert delivery.last_error == "HTTP 400" and delivery.delivered_at is None
    assert delivery.attempts == 1 and countdowns == []


def test_a_redirect_is_not_followed_and_fails(delivery, receiver):
    receiver.answers = [302]
    assert run(delivery).status == Status.FAILED


def test_it_gives_up_after_five_retries(delivery, receiver, countdowns):
    receiver.answers = [503] * 10
    delivery = retry_on_the_clock(run(delivery), [20, 40, 80, 160, 320], receiver)
    assert delivery.status == Status.FAILED
    assert delivery.last_error == "HTTP 503" and delivery.delivered_at is None
    assert delivery.attempts == len(receiver.calls) == 6
    assert countdowns == []
    # Failed for good: no later tick sends it again.
    assert tick_after(delivery, 10**6) == 0
    assert len(receiver.calls) == 6


@pytest.mark.parametrize(("attempts", "seconds"), [
    (0, 10), (1, 20), (5, 320), (6, 600), (9, 600), (30, 600)])
def test_the_backoff_doubles_up_to_ten_minutes(attempts, seconds):
    assert backoff(attempts) == seconds


@pytest.mark.parametrize("attempts", [6, 9])
def test_the_backoff_is_capped_at_ten_minutes(delivery, receiver, attempts):
    # A pending row past the usual retries (an admin sent a failed one again).
    last = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=attempts,
                                                          last_attempt_at=last)
    assert do_send_due_webhooks(last + timedelta(seconds=599)) == 0
    assert receiver.calls == []
    assert do_send_due_webhooks(last + timedelta(seconds=600)) == 1
    assert len(receiver.calls) == 1


def test_the_last_network_error_is_recorded(delivery, receiver):
    receiver.answers = [WebhookNetworkError("connection refused")] * 5 + [
        WebhookNetworkError("timed out")]
    delivery = retry_on_the_clock(run(delivery), [20, 40, 80, 160, 320], receiver)
    assert delivery.status == Status.FAILED and delivery.attempts == 6
    assert delivery.last_error == "network error: timed out"


def test_a_url_that_is_not_http_fails_without_a_retry(delivery, receiver):
    delivery.endpoint.url = "file:///etc/passwd"
    delivery.endpoint.save()
    receiver.answers = [ValueError("not an http(s) URL: 'file:///etc/passwd'")]
    delivery = run(delivery)
    assert delivery.status == Status.FAILED and delivery.attempts == 1
    assert delivery.last_error.startswith("invalid URL")


def test_an_endpoint_switched_off_after_queueing_is_not_called(delivery, receiver):
    delivery.endpoint.active = False
    delivery.endpoint.save()
    assert run(delivery).status == Status.FAILED
    assert receiver.calls == []


def test_two_runs_for_one_delivery_send_it_once(delivery, receiver):
    assert deliver_webhook.delay(delivery.pk).get() == "delivered"
    assert deliver_webhook.delay(delivery.pk).get() == "skipped"
    assert len(receiver.calls) == 1


def test_a_run_that_starts_while_another_is_sending_sends_nothing(delivery, receiver):
    seen = []
    receiver.during_call = lambda: seen.append(deliver_webhook.apply([delivery.pk]).result)
    assert run(delivery).status == Status.DELIVERED
    assert seen == ["skipped"] and len(receiver.calls) == 1


def test_a_missing_delivery_is_skipped(db, receiver):
    assert deliver_webhook.delay(123456).get() == "skipped"
    assert receiver.calls == []


# The embedded mode's clock: do_send_due_webhooks.

LONG_AGO = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("status", [Status.DELIVERED, Status.FAILED])
def test_the_clock_never_sends_a_delivered_or_failed_delivery_again(delivery, receiver,
                                                                     status):
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=status, attempts=1, created_at=LONG_AGO, last_attempt_at=LONG_AGO)
    assert do_send_due_webhooks(LONG_AGO + timedelta(days=30)) == 0
    assert receiver.calls == []
    delivery.refresh_from_db()
    assert delivery.status == status and delivery.attempts == 1


def test_the_clock_sends_a_delivery_never_tried_after_a_minute(delivery, receiver):
    # Its task was lost (the process stopped before the commit's callback ran).
    WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=LONG_AGO)
    assert do_send_due_webhooks(LONG_AGO + timedelta(seconds=59)) == 0
    assert receiver.calls == []
    assert do_send_due_webhooks(LONG_AGO + timedelta(seconds=60)) == 1
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED and delivery.attempts == 1
    assert len(receiver.calls) == 1
    # Delivered: the next tick leaves it alone.
    assert do_send_due_webhooks(LONG_AGO + timedelta(hours=1)) == 0
    assert len(receiver.calls) == 1


def test_the_clock_sends_only_the_deliveries_that_are_due(endpoint, receiver,
                                                          django_capture_on_commit_callbacks):
    endpoint(name="one")
    endpoint(name="two")
    endpoint(name="three")
    with django_capture_on_commit_callbacks(execute=False):
        first, second, third = do_queue_webhooks("sla.breached", {"event": "sla.breached"})
    WebhookDelivery.objects.filter(pk=first.pk).update(created_at=LONG_AGO)
    # Tried twice, so its next try is 40 s after the last.
    WebhookDelivery.objects.filter(pk=second.pk).update(
        created_at=LONG_AGO, attempts=2, last_attempt_at=LONG_AGO + timedelta(seconds=30))
    WebhookDelivery.objects.filter(pk=third.pk).update(created_at=LONG_AGO + timedelta(seconds=5))
    assert do_send_due_webhooks(LONG_AGO + timedelta(seconds=60)) == 1
    assert [c["url"] for c in receiver.calls] == ["https://hooks.example/one"]
    assert do_send_due_webhooks(LONG_AGO + timedelta(seconds=70)) == 2
    assert sorted(c["url"] for c in receiver.calls[1:]) == [
        "https://hooks.example/three", "https://hooks.example/two"]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {Status.DELIVERED}


def test_in_the_scale_out_mode_the_clock_picks_up_only_deliveries_whose_message_was_lost(
        delivery, receiver, settings):
    from socialdesk.cases.clock import LOST_MESSAGE_GRACE, tick

    # Celery holds the retries: a delivery just due is left to it...
    settings.SCALE_OUT = True
    WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=LONG_AGO)
    assert tick(LONG_AGO + timedelta(seconds=60))["webhooks_retried"] == 0
    # ...but one still pending long after it was due has no message left to run it.
    late = LONG_AGO + timedelta(seconds=60) + LOST_MESSAGE_GRACE
    assert tick(late)["webhooks_retried"] == 1
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED and len(receiver.calls) == 1


# The scale-out mode: a worker runs the task, and Celery retries it.

@pytest.fixture
def requeued(monkeypatch):
    """The retry messages Celery would publish for the task, caught: the
    settings' eager mode would otherwise run them at once."""
    sent = []
    monkeypatch.setattr(deliver_webhook, "apply_async",
                        lambda args=None, kwargs=None, **options: sent.append(
                            {"args": args, **options}))
    return sent


def as_worker(delivery_id: int):
    """Run the task body as a worker's (not eager) request would."""
    deliver_webhook.push_request(id="worker-task-1", args=[delivery_id], kwargs={},
                                 is_eager=False, called_directly=False, retries=0)
    try:
        return deliver_webhook.run(delivery_id)
    finally:
        deliver_webhook.pop_request()


@pytest.mark.parametrize(("tried", "countdown"), [(0, 20), (1, 40), (4, 320)])
def test_a_worker_leaves_the_retry_to_celery_after_the_backoff(delivery, receiver, requeued,
                                                               tried, countdown):
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=tried)
    receiver.answers = [WebhookNetworkError("connection refused")]
    with pytest.raises(Retry) as raised:
        as_worker(delivery.pk)
    assert raised.value.when == countdown
    [message] = requeued
    assert message["countdown"] == countdown and list(message["args"]) == [delivery.pk]
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and delivery.attempts == tried + 1
    assert delivery.last_error == "network error: connection refused"
    assert len(receiver.calls) == 1


def test_a_worker_gives_up_after_the_sixth_attempt_without_a_retry(delivery, receiver,
                                                                     requeued):
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=5)
    receiver.answers = [503]
    assert as_worker(delivery.pk) == "failed"
    assert requeued == []
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED and delivery.attempts == 6
    assert delivery.last_error == "HTTP 503"


def test_a_worker_asks_no_retry_for_a_client_error_or_a_delivery(delivery, receiver,
                                                                   requeued):
    receiver.answers = [404]
    assert as_worker(delivery.pk) == "failed"
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=Status.PENDING)
    assert as_worker(delivery.pk) == "delivered"
    assert requeued == [] and len(receiver.calls) == 2
