"""Working a case in the browser: replies with their checks, approvals, notes,
follow-ups, steps and who else is on the case."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import make_user
from socialdesk.cases.actions import do_submit_reply, do_touch_presence
from socialdesk.cases.models import Case, FollowUp, Note, Reply
from socialdesk.cases.tests.cases_helpers import make_case

SORRY = "Sorry to hear that, we've sent you a DM."


@pytest.fixture
def case(teams, agent):
    return make_case(teams["care"], assignee=agent, reply_mode="acknowledge_then_private")


@pytest.fixture
def lawyer(teams):
    return make_user("lee", teams=[teams["legal"]])


@pytest.fixture
def legal_case(teams, agent):
    return make_case(teams["care"], assignee=agent, cues=["legal"], approval_by="legal",
                     approval_reason="approval safety-or-legal-needs-legal (cues legal)")


def page(client, case):
    response = client.get(reverse("web:case", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_case_page_shows_steps_notes_follow_ups_and_presence(client, case, agent):
    client.force_login(agent)
    html = page(client, case)
    assert "Pending</strong>: Acknowledge publicly" not in html  # pending is not bold
    assert "Pending: Acknowledge publicly" in html
    assert "Pending: Continue privately" in html
    assert 'id="notes-h"' in html and 'id="follow-ups-h"' in html
    assert reverse("web:presence", args=[case.pk]) in html
    assert 'hx-trigger="load, every 15s"' in html
    assert "Acknowledge publicly, continue privately" in html
    assert "<script" not in html.split("</head>")[1]


def test_a_reply_is_queued_from_the_page(client, case, agent,
                                         django_capture_on_commit_callbacks):
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("web:reply", args=[case.pk]),
                               {"text": SORRY, "visibility": "public",
                                "follow_up_on_expiry": "remind"})
    assert response.status_code == 302
    assert Reply.objects.get().status == Reply.Status.SENT
    assert "Done</strong>: Acknowledge publicly" in page(client, case)


def test_a_blocked_reply_comes_back_with_the_reason_and_the_text(client, case, agent):
    client.force_login(agent)
    text = "Sorry! Write to carol.smith@gmail.com please."
    response = client.post(reverse("web:reply", args=[case.pk]),
                           {"text": text, "visibility": "public",
                            "follow_up_on_expiry": "remind"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "Must change:</strong> The public reply contains an e-mail address" in html
    assert "carol.smith@gmail.com please.</textarea>" in html
    assert not Reply.objects.exists()


def test_a_warning_is_confirmed_with_a_checkbox_then_the_reply_goes(client, case, agent):
    client.force_login(agent)
    data = {"text": "Please DM us your order number.", "visibility": "public",
            "follow_up_on_expiry": "remind"}
    response = client.post(reverse("web:reply", args=[case.pk]), data)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'name="confirm_warnings" value="no_acknowledgement"' in html
    assert '<label for="confirm-reply-no_acknowledgement"' in html
    response = client.post(reverse("web:reply", args=[case.pk]),
                           {**data, "confirm_warnings": ["no_acknowledgement"]})
    assert response.status_code == 302
    assert Reply.objects.get().confirmed_warnings == ["no_acknowledgement"]


def test_a_reply_can_carry_a_follow_up(client, case, agent, django_capture_on_commit_callbacks):
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("web:reply", args=[case.pk]), {
            "text": SORRY, "visibility": "public", "follow_up_action": "DM their order number",
            "follow_up_hours": "24", "follow_up_on_expiry": "reopen"})
    follow_up = FollowUp.objects.get()
    assert (follow_up.action, follow_up.on_expiry) == ("DM their order number", "reopen")
    case.refresh_from_db()
    assert case.status == Case.Status.PENDING
    assert "DM their order number" in page(client, case)


def test_a_follow_up_needs_both_what_and_when(client, case, agent):
    client.force_login(agent)
    response = client.post(reverse("web:reply", args=[case.pk]), {
        "text": SORRY, "visibility": "public", "follow_up_action": "DM us",
        "follow_up_on_expiry": "remind"})
    assert response.status_code == 422
    assert "Say within how many hours." in response.content.decode()


def test_acknowledge_and_continue_from_the_page(client, case, agent):
    client.force_login(agent)
    response = client.post(reverse("web:acknowledge", args=[case.pk]), {
        "ack-public_text": "Sorry about this! We've sent you a DM.",
        "ack-private_text": "Hi Carol, what's your order number?",
        "ack-follow_up_on_expiry": "remind"})
    assert response.status_code == 302
    assert sorted(Reply.objects.values_list("visibility", flat=True)) == ["private", "public"]


def test_the_second_reply_to_a_post_is_refused_on_the_page(client, case, agent, teammate):
    do_submit_reply(case, agent, SORRY, "public")
    client.force_login(teammate)
    response = client.post(reverse("web:reply", args=[case.pk]),
                           {"text": "So sorry! DM us?", "visibility": "public",
                            "follow_up_on_expiry": "remind"})
    assert response.status_code == 422
    assert "already waiting or sent by alice" in response.content.decode()


def test_an_approver_sees_the_waiting_reply_and_approves_it_with_edits(
        client, legal_case, agent, lawyer, django_capture_on_commit_callbacks):
    reply = do_submit_reply(legal_case, agent, SORRY, "public")
    client.force_login(agent)
    html = page(client, legal_case)
    assert "Awaiting approval</p>" not in html and "Awaiting approval\n" in html
    assert reverse("web:approve_reply", args=[reply.pk]) not in html

    client.force_login(lawyer)
    html = page(client, legal_case)
    assert reverse("web:approve_reply", args=[reply.pk]) in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("web:approve_reply", args=[reply.pk]),
                               {f"r{reply.pk}-text": "We're sorry. We've sent you a DM."})
    assert response.status_code == 302
    reply.refresh_from_db()
    assert (reply.status, reply.text, reply.reviewed_by) == (
        "sent", "We're sorry. We've sent you a DM.", lawyer)


def test_an_approver_sends_a_reply_back_from_the_approvals_page(
        client, legal_case, agent, lawyer):
    reply = do_submit_reply(legal_case, agent, SORRY, "public")
    client.force_login(lawyer)
    response = client.get(reverse("web:approvals"))
    assert [r["reply"] for r in response.context["rows"]] == [reply]
    response = client.post(reverse("web:return_reply", args=[reply.pk]),
                           {f"r{reply.pk}-comment": "Offer a call instead.",
                            "next": "approvals"})
    assert response.url == reverse("web:approvals")
    reply.refresh_from_db()
    assert (reply.status, reply.review_comment) == ("returned", "Offer a call instead.")
    client.force_login(agent)
    assert "Offer a call instead." in page(client, legal_case)


def test_someone_who_may_not_approve_is_refused(client, legal_case, agent, teammate):
    reply = do_submit_reply(legal_case, agent, SORRY, "public")
    client.force_login(teammate)
    assert client.get(reverse("web:approvals")).context["rows"] == []
    response = client.post(reverse("web:approve_reply", args=[reply.pk]), follow=True)
    assert "Only an approver (legal)" in response.content.decode()
    reply.refresh_from_db()
    assert reply.status == Reply.Status.AWAITING_APPROVAL


def test_a_note_with_a_mention_is_added(client, case, agent, teammate):
    client.force_login(agent)
    response = client.post(reverse("web:note", args=[case.pk]),
                           {"note-text": "@bob can you call her?", "note-kind": "phone"})
    assert response.status_code == 302
    note = Note.objects.get()
    assert (note.kind, list(note.mentions.all())) == ("phone", [teammate])
    html = page(client, case)
    assert "@bob can you call her?" in html and "Done</strong>: Continue privately" in html


def test_a_check_back_is_offered_once_resolved(client, case, agent):
    client.force_login(agent)
    assert reverse("web:check_back", args=[case.pk]) not in page(client, case)
    Case.objects.filter(pk=case.pk).update(status=Case.Status.RESOLVED)
    assert reverse("web:check_back", args=[case.pk]) in page(client, case)
    client.post(reverse("web:check_back", args=[case.pk]),
                {"checkback-action": "Ask if it works", "checkback-hours": "48",
                 "checkback-on_expiry": "reopen"})
    assert FollowUp.objects.get().kind == FollowUp.Kind.CHECK_BACK


def test_the_presence_partial_shows_a_colleague_writing(client, case, agent, teammate):
    do_touch_presence(case, teammate, True, timezone.now())
    client.force_login(agent)
    response = client.post(reverse("web:presence", args=[case.pk]), {"text": ""})
    assert "bob is writing a reply" in response.content.decode()
    client.force_login(teammate)
    response = client.post(reverse("web:presence", args=[case.pk]), {"text": "Hi Car"})
    assert "alice is viewing" in response.content.decode()


def test_a_colleague_who_left_is_not_shown(client, case, agent, teammate):
    do_touch_presence(case, teammate, True, timezone.now() - timedelta(minutes=5))
    client.force_login(agent)
    response = client.post(reverse("web:presence", args=[case.pk]))
    assert "Nobody else has this case open." in response.content.decode()


def test_an_outsider_reaches_none_of_it(client, legal_case, agent, outsider):
    reply = do_submit_reply(legal_case, agent, SORRY, "public")
    client.force_login(outsider)
    for name, arg in (("acknowledge", legal_case.pk), ("note", legal_case.pk),
                      ("check_back", legal_case.pk), ("presence", legal_case.pk),
                      ("approve_reply", reply.pk), ("return_reply", reply.pk)):
        assert client.post(reverse(f"web:{name}", args=[arg])).status_code == 404, name
    assert not Note.objects.exists()


def test_a_legal_team_member_may_open_a_case_that_waits_for_legal(client, legal_case, lawyer,
                                                                   outsider):
    client.force_login(lawyer)
    assert client.get(reverse("web:case", args=[legal_case.pk])).status_code == 200
    client.force_login(outsider)
    assert client.get(reverse("web:case", args=[legal_case.pk])).status_code == 404


def test_the_new_pages_need_a_login(client, case):
    for url in (reverse("web:approvals"), reverse("web:presence", args=[case.pk])):
        response = client.get(url) if url.endswith("approvals/") else client.post(url)
        assert response.status_code == 302 and response.url.startswith(reverse("web:login"))
