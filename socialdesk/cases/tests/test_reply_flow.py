"""The reply path: guideline checks, the outbox, delivery, and the reply mode's steps."""

import json
from datetime import timedelta

import pytest

from socialdesk.audit.models import Event
from socialdesk.cases import steps
from socialdesk.cases.actions import (
    ActionError,
    NeedsConfirmation,
    do_acknowledge_and_continue,
    do_assign,
    do_set_status,
    do_submit_reply,
)
from socialdesk.cases.models import Case, Reply
from socialdesk.cases.tests.cases_helpers import add_post, make_case

SORRY = "Sorry to hear that, we've sent you a DM."


@pytest.fixture
def case(teams, agent):
    return make_case(teams["care"], assignee=agent)


def delivered(outbox, channel="x") -> list[dict]:
    path = outbox / f"{channel}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_reply_that_follows_the_guidelines_is_queued_and_delivered(
        case, agent, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        reply = do_submit_reply(case, agent, f"  {SORRY} ", "public")
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and reply.text == SORRY
    assert [d["text"] for d in delivered(outbox)] == [SORRY]
    case.refresh_from_db()
    assert case.first_response_at is not None
    verbs = list(Event.objects.filter(case=case).values_list("verb", flat=True))
    assert verbs == ["reply.queued", "reply.sent", "case.step_done"]


@pytest.mark.parametrize("make, text, message", [
    (dict(category="crisis", cues=["safety"]), "Sorry, we are at fault for the burn.",
     "admits fault"),
    ({}, "Sorry! Write to carol.smith@gmail.com and we'll sort it.", "e-mail address"),
    ({}, "Sorry! " + "x" * 280, "x allows 280"),
    ({}, "Sorry, see https://evil.io/help", "not on the brand's list"),
    ({}, "   ", "The reply is empty"),
])
def test_a_reply_that_breaks_a_guideline_is_refused_with_the_reason(
        teams, agent, settings, make, text, message):
    settings.BRAND_LINK_DOMAINS = ["example.com"]
    case = make_case(teams["care"], assignee=agent, **make)
    with pytest.raises(ActionError) as refused:
        do_submit_reply(case, agent, text, "public", confirm_warnings=["no_acknowledgement"])
    assert message in str(refused.value)
    assert not isinstance(refused.value, NeedsConfirmation)
    assert refused.value.findings and all(f.blocking for f in refused.value.findings)
    assert not Reply.objects.exists()


def test_the_brands_configured_helpline_may_go_in_a_public_reply(case, agent, settings):
    text = "Sorry about this! Call our team free on 0800 123 4567."
    with pytest.raises(ActionError, match="phone number"):
        do_submit_reply(case, agent, text, "public")
    settings.BRAND_CONTACTS = ["+44 800 123 4567", "care@kettle.example"]
    assert do_submit_reply(case, agent, text, "public").status == Reply.Status.QUEUED


def test_personal_data_may_go_in_a_private_message(case, agent):
    reply = do_submit_reply(case, agent, "Sorry! Is carol.smith@gmail.com still yours?",
                            "private")
    assert reply.status == Reply.Status.QUEUED


def test_a_warning_needs_the_authors_confirmation_then_the_reply_goes(
        case, agent, outbox, django_capture_on_commit_callbacks):
    with pytest.raises(NeedsConfirmation) as asked:
        do_submit_reply(case, agent, "Please DM us your order number.", "public")
    assert [f.check for f in asked.value.findings] == ["no_acknowledgement"]
    assert not Reply.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        reply = do_submit_reply(case, agent, "Please DM us your order number.", "public",
                                confirm_warnings=["no_acknowledgement"])
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT
    assert reply.confirmed_warnings == ["no_acknowledgement"]
    event = Event.objects.get(verb="reply.queued")
    assert event.data["confirmed_warnings"] == ["no_acknowledgement"]


def test_a_reply_on_a_new_case_opens_it_and_counts_as_the_assignee_acting(case, agent):
    Case.objects.filter(pk=case.pk).update(status=Case.Status.NEW,
                                           reassign_at=case.opened_at)
    case.refresh_from_db()
    do_submit_reply(case, agent, SORRY, "public")
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN and case.reassign_at is None


def test_a_private_reply_answers_the_customers_latest_private_message(case, agent):
    dm = add_post(case, "dm-1", "here is my order number", visibility="private")
    add_post(case, "2", "hello??")
    reply = do_submit_reply(case, agent, "Thanks, looking into it.", "private")
    assert reply.in_reply_to == dm


# ---------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("mode, expected", [
    ("acknowledge_then_private", ["acknowledge_publicly", "continue_privately"]),
    ("holding_statement", ["holding_statement"]),
    ("public", ["reply_publicly"]),
    ("private", ["reply_privately"]),
    ("none", []),
])
def test_each_reply_mode_has_its_steps(mode, expected):
    assert [s["step"] for s in steps.steps_for(mode)] == expected


def test_a_case_from_before_steps_gets_them_from_its_reply_mode(teams):
    case = make_case(teams["care"], reply_mode="acknowledge_then_private")
    assert case.steps == []
    assert [(s["step"], s["done"]) for s in steps.for_display(case)] == [
        ("acknowledge_publicly", False), ("continue_privately", False)]


def test_a_public_reply_sent_completes_the_public_step(
        teams, agent, django_capture_on_commit_callbacks):
    case = make_case(teams["care"], assignee=agent, reply_mode="acknowledge_then_private")
    with django_capture_on_commit_callbacks(execute=True):
        do_submit_reply(case, agent, SORRY, "public")
    case.refresh_from_db()
    assert [(s["step"], bool(s["done_at"]), s["via"]) for s in case.steps] == [
        ("acknowledge_publicly", True, "public reply"), ("continue_privately", False, "")]


def test_a_private_reply_sent_completes_the_private_step(
        teams, agent, django_capture_on_commit_callbacks):
    case = make_case(teams["care"], assignee=agent, reply_mode="private")
    with django_capture_on_commit_callbacks(execute=True):
        do_submit_reply(case, agent, "Hi Carol, can you send the order number?", "private")
    case.refresh_from_db()
    assert [(s["step"], s["via"]) for s in case.steps] == [("reply_privately", "private message")]
    assert Event.objects.get(verb="case.step_done").data["step"] == "reply_privately"


def test_a_step_is_marked_once(teams, agent, django_capture_on_commit_callbacks):
    case = make_case(teams["care"], assignee=agent, reply_mode="public")
    with django_capture_on_commit_callbacks(execute=True):
        do_submit_reply(case, agent, SORRY, "public")
    add_post(case, "2", "still broken")
    with django_capture_on_commit_callbacks(execute=True):
        do_submit_reply(case, agent, "Sorry again, a replacement is on its way.", "public")
    assert Event.objects.filter(verb="case.step_done").count() == 1


# ---------------------------------------------------------------------------
# Acknowledge publicly, continue privately
# ---------------------------------------------------------------------------

def test_acknowledge_and_continue_queues_both_in_one_step(
        teams, agent, outbox, django_capture_on_commit_callbacks):
    case = make_case(teams["care"], assignee=agent, reply_mode="acknowledge_then_private")
    with django_capture_on_commit_callbacks(execute=True):
        public, private = do_acknowledge_and_continue(
            case, agent, "Sorry about this! We've sent you a DM.",
            "Hi Carol, could you send us your order number?")
    assert (public.visibility, private.visibility) == ("public", "private")
    assert [(d["visibility"], d["recipient"]) for d in delivered(outbox)] == [
        ("public", "carol"), ("private", "carol")]
    case.refresh_from_db()
    assert all(s["done_at"] for s in case.steps)


def test_acknowledge_and_continue_stores_nothing_when_either_part_is_refused(teams, agent):
    case = make_case(teams["care"], assignee=agent, reply_mode="acknowledge_then_private")
    with pytest.raises(ActionError, match="Public acknowledgement: .*e-mail address"):
        do_acknowledge_and_continue(case, agent, "Sorry! Mail carol.smith@gmail.com",
                                    "Could you send the order number?")
    with pytest.raises(NeedsConfirmation, match="Public acknowledgement"):
        do_acknowledge_and_continue(case, agent, "DM us.", "Could you send the order number?")
    assert not Reply.objects.exists()


def test_acknowledge_and_continue_on_email_is_one_private_reply(teams, agent):
    case = make_case(teams["care"], assignee=agent, channel="email",
                     reply_mode="acknowledge_then_private")
    [reply] = do_acknowledge_and_continue(case, agent, "", "Sorry, could you send the order?")
    assert reply.visibility == "private"


def test_acknowledge_and_continue_needs_a_channel_with_private_messages(teams, agent):
    case = make_case(teams["care"], assignee=agent, channel="youtube",
                     reply_mode="acknowledge_then_private")
    with pytest.raises(ActionError, match="no private messages"):
        do_acknowledge_and_continue(case, agent, "Sorry!", "Hi")


def test_an_email_private_reply_completes_every_step(
        teams, agent, django_capture_on_commit_callbacks):
    case = make_case(teams["care"], assignee=agent, channel="email",
                     reply_mode="acknowledge_then_private")
    with django_capture_on_commit_callbacks(execute=True):
        do_submit_reply(case, agent, "Sorry, could you send the order number?", "private")
    case.refresh_from_db()
    assert all(s["done_at"] for s in case.steps)


# ---------------------------------------------------------------------------
# Status
# ---------------------------------------------------------------------------

def test_a_status_change_is_audited_and_counts_as_acting(case, agent):
    Case.objects.filter(pk=case.pk).update(reassign_at=case.opened_at)
    case.refresh_from_db()
    do_set_status(case, Case.Status.RESOLVED, actor=agent)
    case.refresh_from_db()
    assert case.status == "resolved" and case.resolved_at and case.reassign_at is None
    event = Event.objects.get(verb="case.status_changed")
    assert (event.actor, event.data) == (agent, {"before": "open", "after": "resolved"})


def test_assigning_to_yourself_counts_as_acting_and_to_someone_else_starts_their_timer(
        teams, agent, teammate):
    Team = type(teams["care"])
    Team.objects.filter(pk=teams["care"].pk).update(reassign_after_minutes=30)
    case = make_case(Team.objects.get(pk=teams["care"].pk))
    do_assign(case, agent, actor=agent)
    case.refresh_from_db()
    assert case.assignee == agent and case.reassign_at is None and case.assigned_at
    do_assign(case, teammate, actor=agent)
    case.refresh_from_db()
    assert case.assignee == teammate
    assert case.reassign_at == case.assigned_at + timedelta(minutes=30)
