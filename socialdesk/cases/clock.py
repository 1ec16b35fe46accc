"""One tick of the desk's clock: everything that happens because time passed.

Each step claims its work with conditional updates, so two ticks that overlap
(a slow one and the next, or beat and a manual run) never act twice.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from socialdesk.cases import sla
from socialdesk.cases.followups import do_expire_follow_ups
from socialdesk.cases.moderation import do_sweep_moderations
from socialdesk.cases.outbox import do_sweep_outbox
from socialdesk.connectors.listening import do_poll_due
from socialdesk.notifications.tasks import do_send_due_webhooks
from socialdesk.pipeline import sweep_posts
from socialdesk.routing.actions import do_reassign_inactive, do_release_queues

# A pending delivery this far past its due time has no queue message left.
LOST_MESSAGE_GRACE = timedelta(minutes=10)
# Batches of waiting posts one tick processes or queues.
SWEEP_BATCHES = 5


def tick(now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    report = sla.do_evaluate_clocks(now)
    done = {
        "warned": report.warned,
        "breached": report.breached,
        "follow_ups_expired": do_expire_follow_ups(now),
        "reassigned": do_reassign_inactive(now),
        # Last: capacity freed by the steps above (and agents whose working
        # hours began) goes to the queues.
        "assigned_from_queue": do_release_queues(now=now),
    }
    # Celery retries webhooks in the scale-out mode, and the clock only picks up
    # deliveries whose queue message was lost; in the embedded mode it retries them all.
    done["webhooks_retried"] = do_send_due_webhooks(
        now, LOST_MESSAGE_GRACE if settings.SCALE_OUT else timedelta(0))
    outbox = do_sweep_outbox(now)
    done["replies_requeued"], done["replies_interrupted"] = outbox.requeued, outbox.interrupted
    done["replies_found_sent"] = outbox.found_sent
    done["moderations_requeued"] = do_sweep_moderations(now)
    # The accounts whose listeners are due (connectors.listening).
    done["accounts_polled"] = do_poll_due(now)
    # Last, and a few batches a tick: after a crash of a large import the
    # clock must still keep time while the backlog is worked off.
    posts = sweep_posts(now, limit=SWEEP_BATCHES * settings.PIPELINE_BATCH_SIZE)
    done["posts_swept"] = posts.handled
    return done
