"""Meta's private-message window, enforced: a private reply goes out within 24 hours of
the person's last message, up to 7 days with the human agent tag, and not after."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from socialdesk.cases.actions import ActionError, do_submit_reply, reply_findings
from socialdesk.cases.models import Reply
from socialdesk.cases.tasks import deliver_reply
from socialdesk.cases.tests.cases_helpers import make_case
from socialdesk.cases.windows import HUMAN_AGENT, private_window
from socialdesk.ingestion.models import Post

SORRY = "Sorry to hear that, could you send us your order number?"


def case_written_to(team, ago: timedelta, channel="facebook"):
    case = make_case(team, channel=channel, visibility="private")
    Post.objects.filter(case=case).update(created_at=timezone.now() - ago)
    return case


@pytest.mark.parametrize(("ago", "open_", "tag"), [
    (timedelta(hours=2), True, ""),
    (timedelta(hours=30), True, HUMAN_AGENT),
    (timedelta(days=6, hours=23), True, HUMAN_AGENT),
    (timedelta(days=7, minutes=1), False, ""),
])
def test_the_window_follows_the_persons_last_message(teams, ago, open_, tag):
    window = private_window(case_written_to(teams["care"], ago), timezone.now())
    assert (window.open, window.tag) == (open_, tag)


def test_channels_without_a_window_are_always_open(teams):
    case = case_written_to(teams["care"], timedelta(days=300), channel="x")
    assert private_window(case, timezone.now()).open


def test_a_private_reply_past_the_window_is_refused_with_the_reason(teams, agent):
    case = case_written_to(teams["care"], timedelta(days=9))
    findings = reply_findings(case, SORRY, "private")
    refusal = next(f for f in findings if f.check == "reply_window")
    assert refusal.blocking
    assert "Facebook" in refusal.message and "9 days ago" in refusal.message
    with pytest.raises(ActionError, match="reply publicly"):
        do_submit_reply(case, agent, SORRY, "private")
    # A public reply in the thread is still possible.
    assert not [f for f in reply_findings(case, SORRY, "public") if f.check == "reply_window"]


def test_a_late_private_reply_goes_out_with_the_human_agent_tag(teams, agent, outbox):
    case = case_written_to(teams["care"], timedelta(days=2), channel="instagram")
    reply = do_submit_reply(case, agent, SORRY, "private")
    assert deliver_reply(reply.pk) == "sent"
    line = json.loads((outbox / "instagram.jsonl").read_text())
    assert (line["visibility"], line["tag"], line["key"]) == \
        ("private", HUMAN_AGENT, str(reply.delivery_key))


def test_a_reply_whose_window_closed_while_it_waited_is_not_sent(teams, agent, outbox):
    case = case_written_to(teams["care"], timedelta(days=6))
    reply = do_submit_reply(case, agent, SORRY, "private")
    # Approval (or a queue) took two more days.
    Post.objects.filter(case=case).update(created_at=timezone.now() - timedelta(days=8))
    assert deliver_reply(reply.pk) == "failed"

    reply.refresh_from_db()
    assert reply.status == Reply.Status.FAILED and "8 days ago" in reply.last_error
    assert not (outbox / "facebook.jsonl").exists()
