"""Agents correct triage: the label is kept with who and when, and the desk follows it."""

from datetime import timedelta

import pytest

from conftest import post
from socialdesk.analytics.metrics import channel_report
from socialdesk.audit.models import Event
from socialdesk.cases.actions import do_set_status
from socialdesk.cases.inbox import inbox
from socialdesk.cases.models import Case
from socialdesk.ingestion.models import Post
from socialdesk.ingestion.queries import post_rows
from socialdesk.triage.actions import active_policy, do_install_policy, post_input
from socialdesk.triage.engine import triage_one
from socialdesk.triage.feedback import (
    CorrectionError,
    correction_history,
    do_apply_corrections,
    do_correct_triage,
    feedback_examples,
    stored_facts,
)
from socialdesk.triage.models import Correction, Triage
from socialdesk.triage.policy import DEFAULT_POLICY_PATH

COMPLAINT = "my kettle stopped working after a week, really disappointed"
PRAISE = "love the new kettle, thank you so much, great service"
SPAM = "win a free prize now, click bit-prize.example/kx92 crypto giveaway"


@pytest.fixture
def complaint(feed, teams):
    feed(post("1", COMPLAINT))
    found = Post.objects.select_related("triage", "case").get(external_id="1")
    assert (found.triage.category, found.triage.decision) == ("complaint", "respond")
    assert found.case.category == "complaint" and found.case.priority == "P2"
    return found


def test_a_correction_is_stored_with_who_and_when(complaint, agent):
    correction = do_correct_triage(complaint, "sentiment", "neutral", agent, note="dry humour")

    row = Correction.objects.get()
    assert row == correction
    assert (row.post, row.field, row.previous, row.value) == (complaint, "sentiment",
                                                              "negative", "neutral")
    assert row.created_by == agent and row.note == "dry humour" and row.created_at is not None
    triage = Triage.objects.get(post=complaint)
    assert triage.sentiment == "neutral"
    assert triage.corrected_at is not None
    assert "corrected by alice: sentiment negative → neutral" in triage.reasons


def test_a_category_correction_decides_again_under_the_active_policy(complaint, agent):
    do_correct_triage(complaint, "category", "praise", agent)

    triage = Triage.objects.get(post=complaint)
    assert triage.category == "praise"
    assert (triage.decision, triage.priority, triage.reply_mode, triage.owner_team,
            triage.first_response_minutes) == ("respond", "P4", "public", "community", 24 * 60)
    assert triage.reasons[-3] == "corrected by alice: category complaint → praise"
    assert triage.reasons[-1].startswith("policy rule positive (category praise)")
    assert triage.labels[0]["category"] == "praise"
    assert "complaint" not in {label["category"] for label in triage.labels}


def test_the_policy_that_decides_again_is_the_active_one(complaint, agent):
    source = DEFAULT_POLICY_PATH.read_text().replace(
        "  - name: positive\n    when: {category: [praise]}\n    decision: respond\n"
        "    reply_mode: public",
        "  - name: positive\n    when: {category: [praise]}\n    decision: let_stand\n"
        "    reply_mode: none")
    assert source != DEFAULT_POLICY_PATH.read_text()
    installed = do_install_policy(source)

    do_correct_triage(complaint, "category", "praise", agent)

    triage = Triage.objects.get(post=complaint)
    assert (triage.decision, triage.reply_mode) == ("let_stand", "none")
    assert triage.policy_version == installed.version == active_policy().version


def test_a_category_correction_updates_the_open_case(complaint, agent):
    do_correct_triage(complaint, "category", "praise", agent)

    case = Case.objects.get()
    assert (case.category, case.decision, case.priority, case.reply_mode) == (
        "praise", "respond", "P4", "public")
    assert case.first_response_due == case.opened_at + timedelta(hours=24)


def test_a_decision_correction_changes_the_needs_response_set(complaint, agent):
    assert channel_report()[0].needs_response == 1
    assert list(inbox(agent, "needs-response")) == [complaint.case]

    do_correct_triage(complaint, "decision", "monitor", agent, note="a general gripe")

    assert channel_report()[0].needs_response == 0
    assert channel_report()[0].volume == 1
    assert list(inbox(agent, "needs-response")) == []
    assert list(inbox(agent, "monitor")) == [complaint.case]
    assert Case.objects.get().decision == "monitor"


def test_a_persons_decision_survives_a_later_category_correction(complaint, agent, teammate):
    do_correct_triage(complaint, "decision", "escalate", agent)
    do_correct_triage(complaint, "category", "praise", teammate)

    triage = Triage.objects.get(post=complaint)
    assert (triage.category, triage.decision, triage.priority) == ("praise", "escalate", "P2")
    assert triage.reasons[-1] == "decision escalate kept: set by alice"
    assert Case.objects.get().decision == "escalate"


def test_the_audit_log_records_who_what_from_and_to(complaint, agent):
    do_correct_triage(complaint, "category", "praise", agent, note="they are thanking us")

    event = Event.objects.get(verb="triage.corrected")
    assert event.case == complaint.case and event.actor == agent
    assert {k: event.data[k] for k in ("post", "field", "before", "after", "note")} == {
        "post": complaint.pk, "field": "category", "before": "complaint", "after": "praise",
        "note": "they are thanking us"}
    assert event.data["outcome"]["priority"] == ["P2", "P4"]
    assert event.data["case_changes"]["category"] == ["complaint", "praise"]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("severity", "3", "Unknown field 'severity'"),
    ("category", "angry", "'angry' is not a category: choose one of complaint"),
    ("sentiment", "furious", "'furious' is not a sentiment"),
    ("decision", "ignore", "'ignore' is not a decision"),
    ("category", "complaint", "The category is already complaint; nothing to correct."),
])
def test_it_rejects_a_bad_or_empty_correction_and_changes_nothing(complaint, agent, field,
                                                                  value, message):
    with pytest.raises(CorrectionError, match=message):
        do_correct_triage(complaint, field, value, agent)
    assert isinstance(CorrectionError("x"), ValueError)
    assert not Correction.objects.exists()
    assert not Event.objects.filter(verb="triage.corrected").exists()
    assert Triage.objects.get(post=complaint).corrected_at is None


def test_it_rejects_a_note_longer_than_it_keeps(complaint, agent):
    with pytest.raises(CorrectionError, match="at most 2,000"):
        do_correct_triage(complaint, "category", "praise", agent, note="x" * 2001)
    assert not Correction.objects.exists()


def test_it_rejects_a_post_that_was_never_triaged(feed, teams, agent):
    feed(post("1", COMPLAINT), post("2", "sorry to hear that", author="brand", in_reply_to="1",
                                    direction="outbound"))
    reply = Post.objects.get(external_id="2")
    with pytest.raises(CorrectionError, match="no triage to correct"):
        do_correct_triage(reply, "category", "praise", agent)


def test_several_changes_apply_together_or_not_at_all(complaint, agent):
    with pytest.raises(CorrectionError, match="'hurry' is not a decision"):
        do_apply_corrections(complaint, {"category": "praise", "decision": "hurry"}, agent)
    assert not Correction.objects.exists()
    assert Triage.objects.get(post=complaint).category == "complaint"

    do_apply_corrections(complaint, {"decision": "escalate", "category": "praise"}, agent)
    triage = Triage.objects.get(post=complaint)
    assert (triage.category, triage.decision) == ("praise", "escalate")
    assert [c.field for c in Correction.objects.all()] == ["category", "decision"]

    with pytest.raises(CorrectionError, match="Nothing changed"):
        do_apply_corrections(complaint, {}, agent)


def test_a_case_a_person_resolved_is_left_as_it_was(complaint, agent):
    do_set_status(complaint.case, Case.Status.RESOLVED, actor=agent)

    do_correct_triage(complaint, "category", "praise", agent)

    case = Case.objects.get()
    assert (case.status, case.category, case.priority) == ("resolved", "complaint", "P2")
    assert Triage.objects.get(post=complaint).category == "praise"
    assert Event.objects.get(verb="triage.corrected").data["case_changes"] == {}


def test_a_hidden_post_that_needs_a_response_opens_its_case_again(feed, teams, agent):
    feed(post("1", SPAM))
    spam = Post.objects.get()
    case = Case.objects.get()
    assert (case.status, case.decision) == ("closed", "hide")

    do_correct_triage(spam, "decision", "respond", agent, note="a real customer")

    case.refresh_from_db()
    assert (case.status, case.decision) == ("new", "respond")
    reopened = Event.objects.get(verb="case.reopened")
    assert (reopened.case, reopened.actor, reopened.data["from"]) == (case, agent, "closed")


def test_only_the_first_post_gives_the_case_its_category(feed, teams, agent):
    feed(post("1", COMPLAINT), post("2", "also, is there a spare lid?", in_reply_to="1",
                                    at="2026-11-16T10:00:00+00:00"))
    case = Case.objects.get()
    second = Post.objects.get(external_id="2")
    assert second.case == case

    do_correct_triage(second, "category", "crisis", agent)

    case.refresh_from_db()
    assert case.category == "complaint"
    # The most urgent decision of any post wins, as when the post was filed.
    assert (case.decision, case.priority) == ("escalate", "P0")


def test_stored_facts_are_the_facts_the_engine_decided_on(complaint):
    source = post_input(post_rows([complaint.pk])[0])
    fresh = triage_one(source, active_policy())
    assert stored_facts(Triage.objects.get(post=complaint), complaint) == fresh.facts(source)


def test_feedback_examples_give_the_latest_label_per_post(feed, teams, agent, teammate):
    feed(post("1", COMPLAINT), post("2", PRAISE, author="dan"),
         post("3", "meh, the lid squeaks", author="erin"))
    first, second, third = (Post.objects.get(external_id=i) for i in "123")
    do_correct_triage(first, "category", "rant", agent)
    do_correct_triage(first, "category", "question", teammate)
    do_correct_triage(second, "sentiment", "neutral", agent)
    do_correct_triage(third, "category", "suggestion", agent)
    Post.objects.filter(pk=third.pk).update(text="")  # erased at the author's request

    assert feedback_examples("category") == [(COMPLAINT, "question")]
    assert feedback_examples("sentiment") == [(PRAISE, "neutral")]
    assert feedback_examples("decision") == []
    with pytest.raises(CorrectionError, match="Unknown field 'topic'"):
        feedback_examples("topic")


def test_correction_history_lists_each_posts_corrections_oldest_first(complaint, agent,
                                                                      teammate):
    do_correct_triage(complaint, "category", "rant", agent)
    assert Triage.objects.get(post=complaint).decision == "monitor"
    do_correct_triage(complaint, "decision", "respond", teammate)

    history = correction_history([complaint.pk, 999])
    assert list(history) == [complaint.pk]
    assert [(c.field, c.created_by.username) for c in history[complaint.pk]] == [
        ("category", "alice"), ("decision", "bob")]
