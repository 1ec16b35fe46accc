"""The outbox sweeper: no reply waits forever in "queued" or "sending".

A queued reply's message can be lost (the broker was down when it was queued, or
the process died between its commit and the queue); a reply can be left
"sending" by a worker that died while it talked to the channel, before or after
the platform took it. The clock runs this sweep on every tick.

For a reply left "sending", the channel's connector is asked whether the
platform has it (by the reply's key, connectors.base.FindsReplies): if so it is
recorded as sent, if not it is queued again. A connector that cannot look
replies up leaves the reply "delivery uncertain": sending it again might post
it twice, so a person checks the channel and chooses (cases.actions:
do_retry_reply, do_confirm_delivered).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from socialdesk.audit.actions import do_record
from socialdesk.cases.models import Reply
from socialdesk.connectors.base import DeliveryError, FindsReplies
from socialdesk.connectors.registry import delivery_for
from socialdesk.ingestion.models import Post
from socialdesk.lib import queue

# A reply that has been "sending" this long was left by a worker that died: a
# delivery is bounded by the connector's own timeouts, far below this.
SENDING_TIMEOUT = timedelta(minutes=5)
INTERRUPTED = ("delivery was interrupted (the worker stopped while sending) and the channel "
               "cannot be asked whether the reply arrived: check the thread there, then send "
               "it again or mark it delivered")


@dataclass
class OutboxSweep:
    requeued: int = 0
    interrupted: int = 0  # left "delivery uncertain"
    found_sent: int = 0  # the platform had them: recorded as sent


def requeue_after() -> timedelta:
    """How long a queued reply waits before it counts as lost. Embedded: delivery
    runs at once, so a short grace. Scale-out: as long as a worker may hold a
    task, which also covers a retry's back-off."""
    if settings.SCALE_OUT:
        return timedelta(seconds=settings.TASK_VISIBILITY_TIMEOUT_SECONDS)
    return timedelta(seconds=settings.SWEEP_GRACE_SECONDS)


def requeue(stale, task, now: datetime) -> int:
    """Queue `task` again for each outbox item of `stale` (replies, moderations), set
    back to queued. Each is claimed on its status and status_at: two overlapping
    sweeps queue it once. A second message would do no harm either: delivery claims
    the item before it sends. Stops when the broker is down (a later sweep goes on);
    how many were queued."""
    model, queued = stale.model, 0
    for pk, status, status_at in stale.values_list("id", "status", "status_at"):
        if model.objects.filter(pk=pk, status=status, status_at=status_at).update(
                status=model.Status.QUEUED, status_at=now):
            if not queue.enqueue(task, pk):
                break
            queued += 1
    return queued


def do_sweep_outbox(now: datetime | None = None) -> OutboxSweep:
    from socialdesk.cases.tasks import deliver_reply

    now = now or timezone.now()
    sweep = OutboxSweep()
    stale = Reply.objects.filter(status=Reply.Status.QUEUED, status_at__lt=now - requeue_after())
    sweep.requeued = requeue(stale, deliver_reply, now)
    left = Reply.objects.filter(status=Reply.Status.SENDING, status_at__lt=now - SENDING_TIMEOUT)
    for reply_id in left.values_list("id", flat=True):
        _recover(reply_id, now, sweep)
    return sweep


@transaction.atomic
def _recover(reply_id: int, now: datetime, sweep: OutboxSweep) -> None:
    """A reply left "sending": recorded as sent, queued again or left uncertain."""
    from socialdesk.cases.tasks import deliver_reply, outgoing_for, record_sent

    reply = (Reply.objects.select_for_update(of=("self",))
             .select_related("case", "in_reply_to__author", "author")
             .filter(pk=reply_id, status=Reply.Status.SENDING,
                     status_at__lt=now - SENDING_TIMEOUT).first())
    if reply is None:  # another sweep, or the worker after all
        return
    try:
        connector, account = delivery_for(reply.case.channel, reply.in_reply_to.account)
        found = (connector.find_delivered(account, outgoing_for(reply))
                 if isinstance(connector, FindsReplies) else None)
    except DeliveryError:
        found, connector = None, None  # the platform could not be asked now
    if found is not None:
        record_sent(reply, found.external_id, found.url)
        sweep.found_sent += 1
    elif connector is not None and isinstance(connector, FindsReplies):
        # The platform does not have it: sending it again posts it once.
        reply.status, reply.status_at = Reply.Status.QUEUED, now
        reply.save(update_fields=["status", "status_at"])
        do_record("reply.retrying", case=reply.case, at=now, reply=reply.pk,
                  error="the sender stopped before the channel took the reply",
                  attempt=reply.attempts)
        transaction.on_commit(lambda: queue.enqueue(deliver_reply, reply.pk))
        sweep.requeued += 1
    else:
        reply.status, reply.status_at, reply.last_error = Reply.Status.UNCERTAIN, now, INTERRUPTED
        reply.save(update_fields=["status", "status_at", "last_error"])
        do_record("reply.uncertain", case=reply.case, at=now, reply=reply.pk,
                  error=INTERRUPTED, attempt=reply.attempts)
        sweep.interrupted += 1


def do_note_undelivered(channel: str, undelivered: list[tuple[str, str]],
                        now: datetime | None = None) -> int:
    """The platform reported replies of ours undelivered (an e-mail bounce), by the
    external id they were sent under: each is shown "not delivered" with the
    platform's reason, for the agent to correct and send again. Its message stays
    in the case's thread, as sent; sent again, it goes under a new key (a new
    message, not the one that bounced). Returns how many replies were marked."""
    now = now or timezone.now()
    marked = 0
    for external_id, reason in undelivered:
        reply = Reply.objects.filter(
            post__channel=channel, post__external_id=external_id,
            post__direction=Post.Direction.OUTBOUND, status=Reply.Status.SENT,
        ).select_related("case").first()
        if reply is None:
            continue  # not one of the desk's replies, or reported already
        error = f"the recipient's mail server returned it: {reason}"[:2000]
        with transaction.atomic():
            if not Reply.objects.filter(pk=reply.pk, status=Reply.Status.SENT).update(
                    status=Reply.Status.FAILED, status_at=now, last_error=error, post=None,
                    delivery_key=uuid.uuid4()):
                continue
            do_record("reply.bounced", case=reply.case, at=now, reply=reply.pk,
                      external_id=external_id, error=error[:500])
        marked += 1
    return marked
