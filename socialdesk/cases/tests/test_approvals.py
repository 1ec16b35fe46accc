"""Replies on cases the policy marks wait for an approver, who sends them or sends them back."""

import json

import pytest

from conftest import make_user
from socialdesk.accounts.models import Team, User
from socialdesk.audit.models import Event
from socialdesk.cases.actions import ActionError, NotPermitted, do_submit_reply
from socialdesk.cases.approvals import do_approve_reply, do_return_reply
from socialdesk.cases.models import Reply
from socialdesk.cases.queries import awaiting_approval_by, can_approve
from socialdesk.cases.tests.cases_helpers import make_case
from socialdesk.notifications.models import Notification

SORRY = "We're so sorry to hear this. Please DM us so we can look into it."


@pytest.fixture
def lawyer(teams):
    return make_user("lee", teams=[teams["legal"]])


@pytest.fixture
def legal_case(teams, agent):
    return make_case(teams["care"], assignee=agent, cues=["legal"], approval_by="legal",
                     approval_reason="approval safety-or-legal-needs-legal (cues legal)")


@pytest.fixture
def held(legal_case, agent, lawyer):
    return do_submit_reply(legal_case, agent, SORRY, "public")


def sent_texts(outbox) -> list[str]:
    path = outbox / "x.jsonl"
    return [json.loads(line)["text"] for line in path.read_text().splitlines()] \
        if path.exists() else []


def test_a_reply_on_a_case_that_needs_approval_waits_and_the_approvers_are_told(
        held, legal_case, agent, lawyer, outbox):
    assert (held.status, held.approval_by) == (Reply.Status.AWAITING_APPROVAL, "legal")
    assert sent_texts(outbox) == []
    note = Notification.objects.get(verb="reply.awaiting_approval")
    assert note.user == lawyer and legal_case.ref in note.text
    event = Event.objects.get(verb="reply.awaiting_approval")
    assert (event.actor, event.data["approval_by"]) == (agent, "legal")


def test_an_approver_sends_the_reply_as_written(
        held, lawyer, agent, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        do_approve_reply(held, lawyer)
    held.refresh_from_db()
    assert (held.status, held.reviewed_by) == (Reply.Status.SENT, lawyer)
    assert sent_texts(outbox) == [SORRY]
    event = Event.objects.get(verb="reply.approved")
    assert (event.actor, event.data["edited"], event.data["author"]) == (lawyer, False, "alice")
    assert Notification.objects.filter(verb="reply.approved", user=agent).exists()


def test_an_approver_edits_the_reply_before_sending_it(
        held, lawyer, outbox, django_capture_on_commit_callbacks):
    edited = "We're sorry to hear this. Please DM us and we'll look into it today."
    with django_capture_on_commit_callbacks(execute=True):
        do_approve_reply(held, lawyer, text=edited)
    held.refresh_from_db()
    assert held.text == edited and sent_texts(outbox) == [edited]
    assert Event.objects.get(verb="reply.approved").data["edited"] is True


def test_an_edit_that_breaks_a_guideline_is_refused(held, lawyer):
    with pytest.raises(ActionError, match="admits fault"):
        do_approve_reply(held, lawyer, text="Sorry, we are fully liable for this.")
    held.refresh_from_db()
    assert held.status == Reply.Status.AWAITING_APPROVAL and held.text == SORRY


def test_an_approver_sends_the_reply_back_with_a_comment_and_the_author_tries_again(
        held, legal_case, lawyer, agent):
    do_return_reply(held, lawyer, "Don't promise to look into it: say we'll call them.")
    held.refresh_from_db()
    assert (held.status, held.reviewed_by) == (Reply.Status.RETURNED, lawyer)
    assert held.review_comment.startswith("Don't promise")
    event = Event.objects.get(verb="reply.returned")
    assert (event.actor, event.data["comment"]) == (lawyer, held.review_comment)
    told = Notification.objects.get(verb="reply.returned")
    assert told.user == agent and "say we'll call them" in told.text

    again = do_submit_reply(legal_case, agent, "We're sorry. We'll call you today.", "public")
    assert again.status == Reply.Status.AWAITING_APPROVAL


def test_sending_back_needs_a_comment(held, lawyer):
    with pytest.raises(ActionError, match="Say why"):
        do_return_reply(held, lawyer, "  ")


def test_someone_who_is_not_an_approver_cannot_approve_or_send_back(held, teammate, outsider):
    for person in (teammate, outsider):
        with pytest.raises(NotPermitted):
            do_approve_reply(held, person)
        with pytest.raises(NotPermitted):
            do_return_reply(held, person, "no")
    held.refresh_from_db()
    assert held.status == Reply.Status.AWAITING_APPROVAL
    assert not Event.objects.filter(verb__in=("reply.approved", "reply.returned")).exists()


def test_an_admin_can_approve_anything(held, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        do_approve_reply(held, admin_user)
    held.refresh_from_db()
    assert held.status == Reply.Status.SENT and held.reviewed_by == admin_user


def test_a_reply_is_reviewed_once(held, lawyer, admin_user):
    do_return_reply(held, lawyer, "Say we'll call.")
    with pytest.raises(ActionError, match="not awaiting approval"):
        do_approve_reply(held, admin_user)


def test_an_author_who_is_an_approver_sends_directly(
        teams, supervisor, outbox, django_capture_on_commit_callbacks):
    Team.objects.filter(pk=teams["care"].pk).update(supervisor=supervisor)
    care = Team.objects.get(pk=teams["care"].pk)
    case = make_case(care, assignee=supervisor, tier="vip", approval_by="supervisor")
    with django_capture_on_commit_callbacks(execute=True):
        reply = do_submit_reply(case, supervisor, SORRY, "public")
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and sent_texts(outbox) == [SORRY]
    assert Event.objects.get(verb="reply.queued").data["approved_by_author"] is True


def test_supervisor_approval_goes_to_the_team_escalation_chain(teams, agent, supervisor):
    boss = make_user("bea", role=User.Role.SUPERVISOR)
    head = Team.objects.create(slug="cx", name="Customer experience", supervisor=boss)
    Team.objects.filter(pk=teams["care"].pk).update(supervisor=supervisor, parent=head)
    case = make_case(Team.objects.get(pk=teams["care"].pk), assignee=agent,
                     approval_by="supervisor")
    reply = do_submit_reply(case, agent, SORRY, "public")
    assert reply.status == Reply.Status.AWAITING_APPROVAL
    assert set(Notification.objects.values_list("user__username", flat=True)) == {"sam", "bea"}
    assert can_approve(boss, case) and can_approve(supervisor, case)
    assert not can_approve(agent, case)


def test_the_approvals_list_shows_what_each_person_may_approve(
        held, lawyer, teammate, admin_user):
    assert awaiting_approval_by(lawyer) == [held]
    assert awaiting_approval_by(admin_user) == [held]
    assert awaiting_approval_by(teammate) == []
