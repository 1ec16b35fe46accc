"""No reply waits forever, none is posted twice: the clock queues lost replies again,
and of those a dead worker left half-sent it records the ones the channel has, sends
again the ones it has not, and leaves to a person those it cannot tell."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from socialdesk.audit.models import Event
from socialdesk.cases.actions import (
    ActionError,
    ReplyCollision,
    do_confirm_delivered,
    do_retry_reply,
    do_submit_reply,
)
from socialdesk.cases.clock import tick
from socialdesk.cases.models import Reply
from socialdesk.cases.outbox import INTERRUPTED, SENDING_TIMEOUT
from socialdesk.cases.tasks import outgoing_for, record_sent, retry_delay
from socialdesk.cases.tests.cases_helpers import make_case
from socialdesk.connectors import registry
from socialdesk.connectors.file.connector import FileConnector
from socialdesk.connectors.models import ChannelAccount
from socialdesk.ingestion.models import Post


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


def left_sending(agent, teams) -> Reply:
    """A reply a dead worker left "sending", long enough ago for the sweeper."""
    reply = lost_reply(agent, teams)
    Reply.objects.update(status=Reply.Status.SENDING, attempts=1)
    assert tick()["replies_interrupted"] == 0, "a delivery may take a while"
    Reply.objects.update(status_at=timezone.now() - SENDING_TIMEOUT - timedelta(seconds=1))
    reply.refresh_from_db()
    return reply


def lines(outbox) -> list[dict]:
    return [json.loads(line) for line in (outbox / "x.jsonl").read_text().splitlines()]


def test_a_reply_the_channel_never_got_is_sent_again_once(agent, teams, outbox,
                                                          django_capture_on_commit_callbacks):
    reply = left_sending(agent, teams)
    with django_capture_on_commit_callbacks(execute=True):
        assert tick()["replies_requeued"] == 1  # the file connector looked: not there

    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT
    assert [line["key"] for line in lines(outbox)] == [str(reply.delivery_key)]


def test_a_reply_the_channel_got_before_the_crash_is_recorded_not_resent(agent, teams, outbox):
    reply = left_sending(agent, teams)
    # The worker wrote the line, then died before recording it.
    FileConnector().deliver(None, outgoing_for(reply))
    tick()

    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and reply.post.external_id == f"desk-{reply.pk}"
    assert len(lines(outbox)) == 1
    # The worker was only slow, and records its delivery after all: nothing twice.
    record_sent(reply, f"desk-{reply.pk}", "")
    assert Post.objects.filter(direction=Post.Direction.OUTBOUND).count() == 1


class BlindConnector:
    """Delivers as the file connector does, and cannot look a reply up afterwards."""

    name = "blind"

    def deliver(self, account, outgoing):
        return FileConnector().deliver(account, outgoing)


@pytest.fixture
def blind(monkeypatch):
    monkeypatch.setitem(registry.CONNECTORS, "blind", BlindConnector)
    ChannelAccount.objects.create(channel="x", handle="brand", delivery="blind")


def test_without_a_way_to_look_it_up_the_reply_is_left_for_a_person(agent, teams, outbox,
                                                                    blind):
    reply = left_sending(agent, teams)
    assert tick()["replies_interrupted"] == 1

    reply.refresh_from_db()
    assert (reply.status, reply.last_error) == (Reply.Status.UNCERTAIN, INTERRUPTED)
    event = Event.objects.get(verb="reply.uncertain")
    assert (event.case_id, event.data["error"]) == (reply.case_id, INTERRUPTED)
    # Nobody else may answer the post meanwhile: it may be answered already.
    with pytest.raises(ReplyCollision):
        do_submit_reply(reply.case, agent, "Sorry to hear that, any news?", "public")

    # The agent finds it on the channel.
    do_confirm_delivered(reply, agent)
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and reply.case.first_response_at is not None
    assert Event.objects.filter(verb="reply.confirmed").count() == 1


def test_an_uncertain_reply_the_agent_does_not_find_is_sent_again(
        agent, teams, outbox, blind, django_capture_on_commit_callbacks):
    reply = left_sending(agent, teams)
    tick()
    with django_capture_on_commit_callbacks(execute=True):
        do_retry_reply(Reply.objects.get(), agent)

    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT
    assert [e.data["was"] for e in Event.objects.filter(verb="reply.retried")] == ["uncertain"]
    with pytest.raises(ActionError, match="only a reply"):
        do_retry_reply(reply, agent)


def test_a_failed_reply_is_not_resent_over_a_newer_one(agent, teams, outbox):
    reply = lost_reply(agent, teams)
    Reply.objects.update(status=Reply.Status.FAILED, last_error="the platform said no")
    do_submit_reply(reply.case, agent, "Sorry about that, we have sent you a DM.", "public")
    with pytest.raises(ReplyCollision):
        do_retry_reply(Reply.objects.get(pk=reply.pk), agent)


def test_retries_back_off_with_jitter():
    for attempts, most in ((1, 5), (2, 10), (4, 40), (7, 300), (30, 300)):
        delays = {retry_delay(attempts) for _ in range(50)}
        assert all(most / 2 <= d <= most for d in delays) and len(delays) > 1


def test_a_sent_reply_is_left_alone(agent, teams):
    lost_reply(agent, teams)
    Reply.objects.update(status=Reply.Status.SENT, status_at=timezone.now() - timedelta(days=1))
    done = tick()
    assert (done["replies_requeued"], done["replies_interrupted"]) == (0, 0)
