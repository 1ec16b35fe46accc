"""Delivery of queued replies, and of hide, unhide and delete (cases.moderation),
through the channel's connector."""

import random

from celery import shared_task
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from socialdesk.audit.actions import do_record
from socialdesk.cases import sla, steps, windows
from socialdesk.cases.followups import do_expect_customer, spec_for_reply
from socialdesk.cases.models import Case, Moderation, Reply
from socialdesk.connectors.base import DeliveryError, Moderates, Outgoing
from socialdesk.connectors.registry import account_for, delivery_for
from socialdesk.contacts.actions import do_resolve_identities
from socialdesk.ingestion.models import Post

MAX_ATTEMPTS = 5
SENT_VIA = {"public": "public reply", "private": "private message"}


def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt: doubling from 5 s up to 5 minutes, each
    somewhere between half and the whole of it, so that replies that failed
    together (a platform's outage) do not all come back at the same moment."""
    return min(300, 5 * 2 ** max(0, attempts - 1)) * random.uniform(0.5, 1.0)


def next_try(error: DeliveryError, attempts: int) -> float | None:
    """Seconds before trying again after `error`, at least what the platform asked
    for (a rate limit); None when this was the last try (not retryable, or
    MAX_ATTEMPTS made)."""
    if not error.retryable or attempts >= MAX_ATTEMPTS:
        return None
    return max(error.retry_after or 0, retry_delay(attempts))


def outgoing_for(reply: Reply, tag: str = "") -> Outgoing:
    return Outgoing(
        reply_id=reply.pk, channel=reply.case.channel, text=reply.text,
        visibility=reply.visibility, in_reply_to=reply.in_reply_to.external_id,
        recipient=reply.in_reply_to.author.handle, case_ref=reply.case.ref,
        key=str(reply.delivery_key), tag=tag, context=reply.in_reply_to.raw or {},
    )


@shared_task(name="cases.deliver_reply", bind=True, max_retries=MAX_ATTEMPTS)
def deliver_reply(self, reply_id: int) -> str:
    # Claim the reply first: a conditional update, so that two workers (or a
    # retry racing a slow first try) never post the same reply twice.
    claimed = Reply.objects.filter(pk=reply_id, status=Reply.Status.QUEUED).update(
        status=Reply.Status.SENDING, status_at=timezone.now(), attempts=F("attempts") + 1)
    if not claimed:
        return "skipped"
    reply = Reply.objects.select_related("case", "in_reply_to__author", "author").get(pk=reply_id)
    tag = ""
    try:
        if reply.visibility == Post.Visibility.PRIVATE:
            # Checked again here: an approval can take longer than the window had left.
            window = windows.private_window(reply.case, timezone.now())
            if not window.open:
                raise DeliveryError(window.reason, retryable=False)
            tag = window.tag
        connector, account = delivery_for(reply.case.channel, reply.in_reply_to.account)
        delivered = connector.deliver(account, outgoing_for(reply, tag))
    except DeliveryError as e:
        wait = next_try(e, reply.attempts)
        Reply.objects.filter(pk=reply.pk).update(
            status=Reply.Status.FAILED if wait is None else Reply.Status.QUEUED,
            status_at=timezone.now(), last_error=str(e))
        do_record("reply.failed" if wait is None else "reply.retrying", case=reply.case,
                  reply=reply.pk, error=str(e), attempt=reply.attempts)
        if wait is None:
            return "failed"
        raise self.retry(countdown=wait) from e
    record_sent(reply, delivered.external_id, delivered.url)
    return "sent"


@transaction.atomic
def record_sent(reply: Reply, external_id: str, url: str) -> None:
    """Record a delivered reply as the brand's post on the case, once: a worker that
    comes back after the sweeper found its reply on the channel records nothing."""
    now = timezone.now()
    case = Case.objects.select_for_update().get(pk=reply.case_id)
    if not (Reply.objects.select_for_update()
            .filter(pk=reply.pk, status__in=(Reply.Status.SENDING, Reply.Status.UNCERTAIN))
            .values_list("pk", flat=True).first()):
        return
    account = account_for(case.channel, reply.in_reply_to.account)
    handle = account.handle if account else "brand"
    authors = do_resolve_identities(
        {(case.channel, handle): (account.name if account else "", None)})
    post = Post.objects.create(
        channel=case.channel, external_id=external_id, direction=Post.Direction.OUTBOUND,
        visibility=reply.visibility, author_id=authors[(case.channel, handle)], text=reply.text,
        created_at=now, in_reply_to=reply.in_reply_to.external_id, parent=reply.in_reply_to,
        url=url, source="desk", case=case, sent_by=reply.author, processed_at=now,
    )
    Reply.objects.filter(pk=reply.pk).update(status=Reply.Status.SENT, status_at=now,
                                             sent_at=now, post=post, last_error="")
    if case.first_response_at is None:
        case.first_response_at = now
        case.save(update_fields=["first_response_at", "updated_at"])
    do_record("reply.sent", case=case, actor=reply.author, at=now, reply=reply.pk,
              external_id=external_id, visibility=reply.visibility)
    sla.do_note_response(case, now)
    steps.do_mark_contact(case, case.channel, reply.visibility, SENT_VIA[reply.visibility], now)
    follow_up = spec_for_reply(reply)
    if follow_up is not None:
        do_expect_customer(reply, follow_up, now)


@shared_task(name="cases.moderate", bind=True, max_retries=MAX_ATTEMPTS)
def moderate(self, moderation_id: int) -> str:
    claimed = Moderation.objects.filter(pk=moderation_id, status=Moderation.Status.QUEUED
                                        ).update(status=Moderation.Status.SENDING,
                                                 status_at=timezone.now(),
                                                 attempts=F("attempts") + 1)
    if not claimed:
        return "skipped"
    item = Moderation.objects.select_related("case", "post").get(pk=moderation_id)
    try:
        connector, account = delivery_for(item.post.channel, _moderating_account(item))
        if not isinstance(connector, Moderates):
            raise DeliveryError(f"the {connector.name} connector cannot {item.action} posts",
                                retryable=False)
        connector.moderate(account, item.action, item.post.channel, item.post.external_id)
    except DeliveryError as e:
        wait = next_try(e, item.attempts)
        Moderation.objects.filter(pk=item.pk).update(
            status=Moderation.Status.FAILED if wait is None else Moderation.Status.QUEUED,
            status_at=timezone.now(), last_error=str(e))
        do_record(f"post.{item.action}_failed" if wait is None else "post.moderation_retrying",
                  case=item.case, post=item.post_id, moderation=item.pk, error=str(e),
                  attempt=item.attempts)
        if wait is None:
            return "failed"
        raise self.retry(countdown=wait) from e
    Moderation.objects.filter(pk=item.pk).update(status=Moderation.Status.DONE,
                                                 status_at=timezone.now(), last_error="")
    do_record(f"post.{item.action}_done", case=item.case, actor=item.requested_by,
              post=item.post_id, moderation=item.pk)
    return "done"


def _moderating_account(item: Moderation) -> str:
    """The brand's account that acts: the one the comment was addressed to, or the
    one that sent our reply."""
    if item.post.direction == Post.Direction.INBOUND:
        return item.post.account
    return item.post.author.handle


@shared_task(name="cases.tick_clock", ignore_result=True)
def tick_clock() -> dict[str, int]:
    """The clock, on the Celery beat schedule (settings.CELERY_BEAT_SCHEDULE)."""
    from socialdesk.cases.clock import tick

    return tick()
