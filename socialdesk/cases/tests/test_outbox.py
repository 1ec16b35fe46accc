"""No reply waits forever: the clock queues lost replies again and fails, visibly, those a
dead worker left half-sent."""

import json
from datetime import timedelta

from django.utils import timezone

from socialdesk.audit.models import Event
from socialdesk.cases.actions import do_submit_reply
from socialdesk.cases.clock import tick
from socialdesk.cases.models import Reply
from socialdesk.cases.outbox import INTERRUPTED, SENDING_TIMEOUT
from socialdesk.cases.tests.cases_helpers import make_case


def lost_reply(agent, teams):
    """A reply committed as queued whose message never reached a worker: in a test the
    on-commit hook that would queue it does not run, just as after a crash."""
    case = make_case(teams["care"], assignee=agent)
    return do_submit_reply(case, agent, "Sorry to hear that, we've sent you a DM.", "public")


def test_a_queued_reply_whose_message_was_lost_is_delivered_by_the_clock(
        agent, teams, outbox, settings):
    reply = lost_reply(agent, teams)
    tick()
    assert Reply.objects.get().status == Reply.Status.QUEUED, "within the grace period"

    Reply.objects.update(status_at=timezone.now() - timedelta(
        seconds=settings.SWEEP_GRACE_SECONDS + 1))
    assert tick()["replies_requeued"] == 1

    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT
    line = json.loads((outbox / "x.jsonl").read_text())
    assert line["text"] == "Sorry to hear that, we've sent you a DM."
    assert tick()["replies_requeued"] == 0


def test_a_reply_a_dead_worker_left_sending_is_failed_visibly(agent, teams):
    reply = lost_reply(agent, teams)
    Reply.objects.update(status=Reply.Status.SENDING, attempts=1)
    assert tick()["replies_interrupted"] == 0, "a delivery may take a while"

    Reply.objects.update(status_at=timezone.now() - SENDING_TIMEOUT - timedelta(seconds=1))
    assert tick()["replies_interrupted"] == 1

    reply.refresh_from_db()
    assert (reply.status, reply.last_error) == (Reply.Status.FAILED, INTERRUPTED)
    event = Event.objects.get(verb="reply.failed")
    assert (event.case_id, event.data["error"]) == (reply.case_id, INTERRUPTED)


def test_a_sent_reply_is_left_alone(agent, teams):
    lost_reply(agent, teams)
    Reply.objects.update(status=Reply.Status.SENT, status_at=timezone.now() - timedelta(days=1))
    done = tick()
    assert (done["replies_requeued"], done["replies_interrupted"]) == (0, 0)
