"""A correction of a case's opening post decides the case again: team and owner by
the routing rules, the approval gate, the reply mode's steps and the SLA targets,
all in the correction's one audit event; the case never shows two due times."""

import pytest

from conftest import make_user, post
from socialdesk.audit.models import Event
from socialdesk.cases.actions import do_submit_reply
from socialdesk.cases.models import Case, Reply, SlaClock, SlaPolicy
from socialdesk.ingestion.models import Post
from socialdesk.triage.feedback import do_correct_triage

COMPLAINT = "my kettle stopped working after a week, really disappointed"


@pytest.fixture
def policies(db):
    """Targets by priority, in the 24-hour calendar every team has by default."""
    SlaPolicy.objects.create(position=1, name="urgent", priorities=["P0", "P1"],
                             first_response_minutes=30, resolution_minutes=240)
    SlaPolicy.objects.create(position=2, name="standard", first_response_minutes=240,
                             resolution_minutes=2880)


@pytest.fixture
def complaint(feed, teams, agent, policies):
    feed(post("1", COMPLAINT))
    found = Post.objects.select_related("case").get(external_id="1")
    case = found.case
    assert (case.team.slug, case.assignee, case.reply_mode, case.approval_by) == (
        "care", agent, "acknowledge_then_private", "")
    return found


def due_times(case: Case) -> set:
    """Every first-response due time the case page can show."""
    clock = SlaClock.objects.get(case=case, kind="first_response")
    return {case.first_response_due, clock.due_at}


def test_a_complaint_corrected_to_a_crisis_goes_to_pr_with_its_gate_steps_and_targets(
        complaint, agent, teams):
    pr_lead = make_user("petra", teams=[teams["pr"]])
    case = complaint.case
    assert due_times(case) == {case.opened_at + timezone_minutes(240)}

    do_correct_triage(complaint, "category", "crisis", agent, note="a fire at the plant")

    case.refresh_from_db()
    assert (case.category, case.decision, case.priority) == ("crisis", "escalate", "P0")
    assert (case.team.slug, case.routing_rule, case.assignee) == ("pr", "policy-owner",
                                                                 pr_lead)
    assert case.approval_by == "pr" and case.reply_mode == "holding_statement"
    assert [s["step"] for s in case.steps] == ["holding_statement"]
    # One due time, the urgent policy's, counted from when the case opened.
    assert due_times(case) == {case.opened_at + timezone_minutes(30)}
    assert case.sla_due_at == case.opened_at + timezone_minutes(30)
    resolution = SlaClock.objects.get(case=case, kind="resolution")
    assert (resolution.policy, resolution.target_seconds) == ("urgent", 240 * 60)

    [event] = Event.objects.filter(verb="triage.corrected")
    changes = event.data["case_changes"]
    assert changes["team"] == ["care", "pr"] and "no rule matched" in changes["routing"]
    assert changes["assignee"] == ["alice", "petra"]
    assert changes["approval"] == [None, "pr"]
    assert changes["steps"] == [["acknowledge_publicly", "continue_privately"],
                                ["holding_statement"]]
    assert changes["first_response_due"][1] == due_times(case).pop().isoformat()


def test_a_reply_after_the_correction_meets_the_crisis_gate(complaint, agent, teams):
    make_user("petra", teams=[teams["pr"]])
    do_correct_triage(complaint, "category", "crisis", agent)
    case = Case.objects.get()
    reply = do_submit_reply(case, agent, "We're aware and looking into it urgently.", "public")
    assert reply.status == Reply.Status.AWAITING_APPROVAL and reply.approval_by == "pr"


def test_a_step_already_done_counts_for_the_new_reply_mode(complaint, agent, feed):
    feed(post("b1", "So sorry! We're looking into it.", author="brightkettle",
              direction="outbound", in_reply_to="1", at="2026-11-16T09:05:00+00:00"))
    do_correct_triage(complaint, "category", "crisis", agent)
    [step] = Case.objects.get().steps
    assert step["step"] == "holding_statement" and step["done_at"].startswith(
        "2026-11-16T09:05")


def test_a_correction_that_keeps_the_team_keeps_the_assignee(complaint, agent):
    do_correct_triage(complaint, "category", "question", agent)
    case = Case.objects.get()
    assert (case.team.slug, case.assignee) == ("care", agent)
    changes = Event.objects.get(verb="triage.corrected").data["case_changes"]
    assert "team" not in changes and "assignee" not in changes


def test_a_correction_of_a_later_post_leaves_the_case_where_it_is(complaint, agent, feed):
    feed(post("2", "also the lid is cracked", in_reply_to="1",
              at="2026-11-16T09:10:00+00:00"))
    later = Post.objects.get(external_id="2")
    do_correct_triage(later, "category", "crisis", agent)
    case = Case.objects.get()
    assert (case.team.slug, case.category, case.approval_by) == ("care", "complaint", "")
    assert case.priority == "P0"  # the most urgent post's priority still wins


def timezone_minutes(minutes: int):
    from datetime import timedelta

    return timedelta(minutes=minutes)
