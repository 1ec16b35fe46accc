"""One tick of the desk's clock: everything that happens because time passed.

Each step claims its work with conditional updates, so two ticks that overlap
(a slow one and the next, or beat and a manual run) never act twice.
"""

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from socialdesk.cases import sla
from socialdesk.cases.followups import do_expire_follow_ups
from socialdesk.notifications.tasks import do_send_due_webhooks
from socialdesk.routing.actions import do_reassign_inactive, do_release_queues


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
    if not settings.SCALE_OUT:
        # Celery retries webhooks in the scale-out mode; here the clock does.
        done["webhooks_retried"] = do_send_due_webhooks(now)
    return done
