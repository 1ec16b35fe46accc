"""The outbox sweeper: no reply waits forever in "queued" or "sending".

A queued reply's message can be lost (the broker was down when it was queued, or
the process died between its commit and the queue); a reply can be left
"sending" by a worker that died while it talked to the channel. The clock runs
this sweep on every tick.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from socialdesk.audit.actions import do_record
from socialdesk.cases.models import Reply
from socialdesk.lib import queue

# A reply that has been "sending" this long was left by a worker that died: a
# delivery is bounded by the connector's own timeouts, far below this.
SENDING_TIMEOUT = timedelta(minutes=5)
INTERRUPTED = ("delivery was interrupted (the worker stopped while sending); it may or may "
               "not have reached the channel: check the thread there before sending again")


@dataclass
class OutboxSweep:
    requeued: int = 0
    interrupted: int = 0


def requeue_after() -> timedelta:
    """How long a queued reply waits before it counts as lost. Embedded: delivery
    runs at once, so a short grace. Scale-out: as long as a worker may hold a
    task, which also covers a retry's back-off."""
    if settings.SCALE_OUT:
        return timedelta(seconds=settings.TASK_VISIBILITY_TIMEOUT_SECONDS)
    return timedelta(seconds=settings.SWEEP_GRACE_SECONDS)


def do_sweep_outbox(now: datetime | None = None) -> OutboxSweep:
    from socialdesk.cases.tasks import deliver_reply

    now = now or timezone.now()
    sweep = OutboxSweep()
    stale = Reply.objects.filter(status=Reply.Status.QUEUED, status_at__lt=now - requeue_after())
    for reply_id, status_at in stale.values_list("id", "status_at"):
        # Claimed on status_at: two overlapping sweeps queue a reply once. A second
        # message for the same reply would do no harm either: delivery claims the
        # reply before it sends.
        if Reply.objects.filter(pk=reply_id, status=Reply.Status.QUEUED,
                                status_at=status_at).update(status_at=now):
            if not queue.enqueue(deliver_reply, reply_id):
                break  # the broker is down: these wait for a later sweep
            sweep.requeued += 1
    left = Reply.objects.filter(status=Reply.Status.SENDING, status_at__lt=now - SENDING_TIMEOUT)
    for reply in left.select_related("case"):
        if Reply.objects.filter(pk=reply.pk, status=Reply.Status.SENDING,
                                status_at=reply.status_at).update(
                status=Reply.Status.FAILED, status_at=now, last_error=INTERRUPTED):
            do_record("reply.failed", case=reply.case, at=now, reply=reply.pk,
                      error=INTERRUPTED, attempt=reply.attempts)
            sweep.interrupted += 1
    return sweep
