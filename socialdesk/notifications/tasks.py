"""Delivery of queued webhook calls, signed, with retries."""

from datetime import timedelta

from celery import shared_task
from django.db.models import F
from django.utils import timezone

from socialdesk.notifications import transport
from socialdesk.notifications.models import WebhookDelivery
from socialdesk.notifications.signing import SIGNATURE_HEADER, encode_body, sign

MAX_RETRIES = 5
TIMEOUT_SECONDS = 10.0

Status = WebhookDelivery.Status


def backoff(attempts: int) -> int:
    return min(600, 2**attempts * 10)


def is_retryable(status_code: int) -> bool:
    # Rate limits and server trouble pass; any other refusal will be repeated.
    return status_code == 429 or status_code >= 500


@shared_task(name="notifications.deliver_webhook", bind=True, max_retries=MAX_RETRIES)
def deliver_webhook(self, delivery_id: int):
    # Claim first, with a conditional update: a duplicate message, or a retry
    # racing a slow first try, finds the row no longer pending and sends nothing.
    claimed = WebhookDelivery.objects.filter(pk=delivery_id, status=Status.PENDING).update(
        status=Status.SENDING, attempts=F("attempts") + 1, last_attempt_at=timezone.now())
    if not claimed:
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.active:
        return _finish(delivery, Status.FAILED, "endpoint deactivated before delivery")
    body = encode_body(delivery.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "socialdesk-webhooks",
        "X-Socialdesk-Event": delivery.verb,
        "X-Socialdesk-Delivery": str(delivery.pk),
        SIGNATURE_HEADER: sign(endpoint.secret, body),
    }
    try:
        code = transport.post_json(endpoint.url, body, headers, TIMEOUT_SECONDS)
    except transport.WebhookNetworkError as e:
        error, retryable = f"network error: {e}", True
    except ValueError as e:
        error, retryable = f"invalid URL: {e}", False
    else:
        if 200 <= code < 300:
            return _finish(delivery, Status.DELIVERED, "")
        error, retryable = f"HTTP {code}", is_retryable(code)
    # Counted on the row, not by Celery: the embedded mode's retries come from
    # the clock, each a fresh call.
    if not retryable or delivery.attempts > MAX_RETRIES:
        return _finish(delivery, Status.FAILED, error)
    _finish(delivery, Status.PENDING, error)
    if self.request.is_eager:
        # The embedded mode retries on the clock's ticks (do_send_due_webhooks),
        # after the same backoff: retrying here would hold up the request or
        # the tick that raised the event for a receiver that is down.
        return "retrying"
    raise self.retry(countdown=backoff(delivery.attempts))


def do_send_due_webhooks(now=None, grace: timedelta = timedelta(0)) -> int:
    """Pending deliveries whose backoff has passed (and any whose first try was
    lost with its process) are queued again. The embedded mode's retries, with
    no grace; in the scale-out mode Celery retries on its own, so the clock only
    picks up deliveries overdue by `grace`, whose queue message was lost.
    Returns how many were queued."""
    now = now or timezone.now()
    rows = WebhookDelivery.objects.filter(status=Status.PENDING).values_list(
        "pk", "attempts", "last_attempt_at", "created_at")
    due = [pk for pk, attempts, last, created in rows
           if (last or created) + timedelta(seconds=backoff(attempts) if last else 60) + grace
           <= now]
    for pk in due:
        deliver_webhook.delay(pk)
    return len(due)


def _finish(delivery: WebhookDelivery, status: str, error: str) -> str:
    WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
        status=status, last_error=error[:2000],
        delivered_at=timezone.now() if status == Status.DELIVERED else None)
    return str(status)
