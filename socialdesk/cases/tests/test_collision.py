"""Two agents on one case: each sees the other, and only one reply holds a post."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from socialdesk.cases.actions import ReplyCollision, do_submit_reply
from socialdesk.cases.models import CasePresence, Reply
from socialdesk.cases.notes import do_add_note, do_touch_presence
from socialdesk.cases.queries import others_on_case
from socialdesk.cases.tests.cases_helpers import make_case

SORRY = "Sorry to hear that, we've sent you a DM."


@pytest.fixture
def case(teams, agent):
    return make_case(teams["care"], assignee=agent)


def test_a_second_reply_to_the_same_post_is_refused(case, agent, teammate):
    do_submit_reply(case, agent, SORRY, "public")
    with pytest.raises(ReplyCollision,
                       match="Another reply to this post is already waiting or sent by alice"):
        do_submit_reply(case, teammate, "So sorry! Could you DM us?", "public")
    assert Reply.objects.count() == 1


def test_the_refusal_leaves_the_callers_transaction_usable(case, agent, teammate):
    do_submit_reply(case, agent, SORRY, "public")
    with transaction.atomic():
        with pytest.raises(ReplyCollision):
            do_submit_reply(case, teammate, "So sorry! Could you DM us?", "public")
        do_add_note(case, teammate, "alice got there first")
    assert case.notes.count() == 1


def test_a_public_and_a_private_reply_to_the_same_post_may_both_go(case, agent, teammate):
    do_submit_reply(case, agent, SORRY, "public")
    do_submit_reply(case, teammate, "Hi Carol, what's your order number?", "private")
    assert Reply.objects.count() == 2


def test_a_reply_that_failed_frees_the_post(case, agent, teammate):
    first = do_submit_reply(case, agent, SORRY, "public")
    Reply.objects.filter(pk=first.pk).update(status=Reply.Status.FAILED)
    assert do_submit_reply(case, teammate, SORRY, "public").status == Reply.Status.QUEUED


def test_an_agent_sees_a_colleague_writing_a_reply(case, agent, teammate):
    now = timezone.now()
    do_touch_presence(case, agent, False, now)
    do_touch_presence(case, teammate, True, now)
    assert others_on_case(case, agent, now) == [
        {"username": "bob", "drafting": True, "seen_at": now}]
    assert others_on_case(case, teammate, now) == [
        {"username": "alice", "drafting": False, "seen_at": now}]


def test_presence_is_kept_once_per_person_and_drafting_is_kept_unless_told(case, teammate):
    now = timezone.now()
    do_touch_presence(case, teammate, True, now)
    do_touch_presence(case, teammate, None, now + timedelta(seconds=15))
    row = CasePresence.objects.get()
    assert row.drafting is True and row.seen_at == now + timedelta(seconds=15)
    do_touch_presence(case, teammate, False, now + timedelta(seconds=30))
    assert CasePresence.objects.get().drafting is False


def test_someone_who_left_the_page_is_no_longer_shown(case, agent, teammate):
    now = timezone.now()
    do_touch_presence(case, teammate, True, now - timedelta(minutes=2))
    assert others_on_case(case, agent, now) == []
    assert others_on_case(case, agent, now, fresh=timedelta(minutes=5))[0]["username"] == "bob"


def test_submitting_the_reply_ends_the_authors_drafting(case, agent, teammate):
    now = timezone.now()
    do_touch_presence(case, teammate, True, now)
    do_submit_reply(case, teammate, SORRY, "public")
    assert others_on_case(case, agent, now)[0]["drafting"] is False
