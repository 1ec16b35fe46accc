"""Tell people: a notification in the app for each person, and one call to each
subscribed webhook per event (signed; delivered by a task after commit)."""

import json
from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from socialdesk.audit.actions import do_record
from socialdesk.lib.bulk import insert_rows
from socialdesk.notifications.models import Notification, WebhookDelivery, WebhookEndpoint
from socialdesk.notifications.signing import encode_body
from socialdesk.notifications.tasks import deliver_webhook

# Longer than any call can take (see tasks.TIMEOUT_SECONDS): a row still
# "sending" after this lost its worker mid-call.
STALE_CLAIM = timedelta(minutes=10)


def do_notify(verb: str, text: str, users: Iterable, case=None, data: dict | None = None,
              at=None) -> list[Notification]:
    """Notify each user once (duplicates and None dropped) and the webhooks that
    subscribe to `verb`. `data` is the webhook payload's detail."""
    at = at or timezone.now()
    people = _people(users)
    rows = Notification.objects.bulk_create(
        [Notification(user=user, case=case, verb=verb, text=text[:500], created_at=at)
         for user in people])
    do_queue_webhooks(verb, _payload(verb, text, people, case, data, at), at)
    return rows


def do_notify_many(notices: Iterable[tuple[str, str, Iterable, object, dict | None]],
                   at) -> None:
    """`do_notify` for many (verb, text, users, case, data) at once, in a few
    statements: a clock tick that warns a thousand cases must not cost a
    thousand round trips."""
    endpoints = list(WebhookEndpoint.objects.filter(active=True))
    rows, deliveries = [], []
    for verb, text, users, case, data in notices:
        people = _people(users)
        rows += [(user.pk, case.pk if case is not None else None, verb, text[:500], at)
                 for user in people]
        wanted = [e for e in endpoints if _subscribes(e, verb)]
        if wanted:
            payload = _stored(_payload(verb, text, people, case, data, at))
            deliveries += [WebhookDelivery(endpoint=e, verb=verb, payload=payload,
                                           created_at=at) for e in wanted]
    insert_rows(Notification, ["user", "case", "verb", "text", "created_at"], rows,
                returning=False)
    for delivery in WebhookDelivery.objects.bulk_create(deliveries):
        _deliver_on_commit(delivery.pk)


def _people(users: Iterable) -> list:
    return list({user.pk: user for user in users if user is not None}.values())


def _payload(verb: str, text: str, people: list, case, data: dict | None, at) -> dict:
    return {"event": verb, "text": text, "at": at.isoformat(),
            "case": case.ref if case is not None else None,
            "case_id": case.pk if case is not None else None,
            "notified": sorted(u.username for u in people),
            **(data or {})}


def _subscribes(endpoint: WebhookEndpoint, verb: str) -> bool:
    return not endpoint.events or verb in endpoint.events


def _stored(payload: dict) -> dict:
    # Stored as it will be sent: dates and other values become their JSON form
    # now, not a TypeError in the database layer.
    return json.loads(encode_body(payload))


def do_queue_webhooks(verb: str, payload: dict, at=None) -> list[WebhookDelivery]:
    endpoints = [e for e in WebhookEndpoint.objects.filter(active=True) if _subscribes(e, verb)]
    if not endpoints:
        return []
    at = at or timezone.now()
    payload = _stored(payload)
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(endpoint=e, verb=verb, payload=payload, created_at=at)
         for e in endpoints])
    for delivery in deliveries:
        _deliver_on_commit(delivery.pk)
    return deliveries


def do_retry_deliveries(ids: Iterable[int], actor) -> int:
    """Queue deliveries again: failed ones, pending ones (their task may never
    have been queued), and those whose worker died mid-call. The task's claim
    keeps a delivery that is also awaiting a retry from being sent twice.
    Attempts keep counting; a retried delivery gets a fresh round of retries."""
    Status = WebhookDelivery.Status
    retryable = Q(status__in=[Status.FAILED, Status.PENDING]) | Q(
        status=Status.SENDING, last_attempt_at__lt=timezone.now() - STALE_CLAIM)
    with transaction.atomic():
        rows = WebhookDelivery.objects.filter(retryable, pk__in=list(ids))
        chosen = list(rows.values_list("pk", flat=True))
        # A fresh round: the retry limit counts attempts on the row.
        WebhookDelivery.objects.filter(retryable, pk__in=chosen).update(
            status=Status.PENDING, attempts=0)
        if chosen:
            do_record("webhook.retried", actor=actor, deliveries=chosen)
        for pk in chosen:
            _deliver_on_commit(pk)
    return len(chosen)


def _deliver_on_commit(delivery_id: int) -> None:
    # Robust: the caller's work is committed by then, and a broker outage (or
    # an eager run's error) must not fail it; the row stays for a retry.
    transaction.on_commit(lambda: deliver_webhook.delay(delivery_id), robust=True)


def do_mark_read(user, ids: Iterable[int] | None = None) -> int:
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(id__in=list(ids))
    return rows.update(read_at=timezone.now())
