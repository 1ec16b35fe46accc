"""Replies, approvals, notes and follow-ups through the JSON API."""

import pytest

from conftest import make_user
from socialdesk.accounts.actions import do_create_api_token
from socialdesk.cases.actions import do_submit_reply
from socialdesk.cases.models import FollowUp, Note, Reply
from socialdesk.cases.tests.cases_helpers import make_case

SORRY = "Sorry to hear that, we've sent you a DM."


def auth(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def token_for(user) -> dict:
    return auth(do_create_api_token(user, "tests")[1])


@pytest.fixture
def case(teams, agent):
    return make_case(teams["care"], assignee=agent)


@pytest.fixture
def lawyer(teams):
    return make_user("lee", teams=[teams["legal"]])


@pytest.fixture
def held(teams, agent, lawyer):
    case = make_case(teams["care"], assignee=agent, cues=["legal"], approval_by="legal",
                     handle="dave")
    return do_submit_reply(case, agent, SORRY, "public")


def post(client, url, body, headers):
    return client.post(url, body, content_type="application/json", **headers)


def test_a_reply_is_queued_and_answered_with_201(client, case, api_token):
    response = post(client, f"/api/v1/cases/{case.pk}/replies",
                    {"text": SORRY, "visibility": "public"}, auth(api_token))
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["author"], body["text"]) == ("queued", "alice", SORRY)


def test_a_reply_with_a_follow_up_waits_on_the_customer_once_sent(
        client, case, api_token, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, f"/api/v1/cases/{case.pk}/replies", {
            "text": SORRY, "visibility": "public",
            "follow_up": {"action": "DM their order number", "within_hours": 24,
                          "on_expiry": "reopen"}}, auth(api_token))
    assert response.status_code == 201
    listed = client.get(f"/api/v1/cases/{case.pk}/follow-ups", **auth(api_token)).json()
    assert [(f["kind"], f["action"], f["status"], f["on_expiry"], f["created_by"])
            for f in listed] == [("expect_customer", "DM their order number", "waiting",
                                  "reopen", "alice")]


def test_a_blocking_finding_is_a_422_with_the_findings(client, case, api_token):
    response = post(client, f"/api/v1/cases/{case.pk}/replies",
                    {"text": "Sorry! Mail carol.smith@gmail.com", "visibility": "public"},
                    auth(api_token))
    assert response.status_code == 422
    body = response.json()
    assert body["needs_confirmation"] is False
    assert [(f["check"], f["blocking"]) for f in body["findings"]] == [("personal_data", True)]
    assert not Reply.objects.exists()


def test_a_warning_is_a_422_until_confirmed(client, case, api_token):
    body = {"text": "Please DM us your order number.", "visibility": "public"}
    response = post(client, f"/api/v1/cases/{case.pk}/replies", body, auth(api_token))
    assert response.status_code == 422
    assert response.json()["needs_confirmation"] is True
    assert response.json()["findings"][0]["check"] == "no_acknowledgement"
    response = post(client, f"/api/v1/cases/{case.pk}/replies",
                    {**body, "confirm_warnings": ["no_acknowledgement"]}, auth(api_token))
    assert response.status_code == 201
    assert response.json()["confirmed_warnings"] == ["no_acknowledgement"]


def test_a_second_reply_to_the_same_post_is_a_409(client, case, agent, teammate):
    do_submit_reply(case, agent, SORRY, "public")
    response = post(client, f"/api/v1/cases/{case.pk}/replies",
                    {"text": "So sorry, DM us?", "visibility": "public"}, token_for(teammate))
    assert response.status_code == 409
    assert "already waiting or sent by alice" in response.json()["detail"]


def test_a_reply_on_a_case_that_needs_approval_waits(held):
    assert held.status == Reply.Status.AWAITING_APPROVAL


def test_an_approver_approves_with_an_edit(client, held, lawyer,
                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, f"/api/v1/replies/{held.pk}/approve",
                        {"text": "We're sorry. We've sent you a DM."}, token_for(lawyer))
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["reviewed_by"], body["text"]) == (
        "queued", "lee", "We're sorry. We've sent you a DM.")
    held.refresh_from_db()
    assert held.status == Reply.Status.SENT


def test_an_approver_sends_a_reply_back(client, held, lawyer):
    response = post(client, f"/api/v1/replies/{held.pk}/return",
                    {"comment": "Offer a call."}, token_for(lawyer))
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["review_comment"]) == (
        "returned", "Offer a call.")


def test_someone_who_may_not_approve_gets_403(client, held, teammate):
    for action, body in (("approve", {}), ("return", {"comment": "no"})):
        response = post(client, f"/api/v1/replies/{held.pk}/{action}", body,
                        token_for(teammate))
        assert response.status_code == 403, action
    held.refresh_from_db()
    assert held.status == Reply.Status.AWAITING_APPROVAL


def test_a_note_is_added_with_its_mentions(client, case, api_token, teammate):
    response = post(client, f"/api/v1/cases/{case.pk}/notes",
                    {"text": "@bob called her, all good", "kind": "phone"}, auth(api_token))
    assert response.status_code == 201
    assert (response.json()["kind"], response.json()["mentions"]) == ("phone", ["bob"])
    assert Note.objects.get().author.username == "alice"


def test_an_outsider_gets_404_everywhere(client, case, held, outsider):
    headers = token_for(outsider)
    assert post(client, f"/api/v1/cases/{case.pk}/replies",
                {"text": SORRY, "visibility": "public"}, headers).status_code == 404
    assert post(client, f"/api/v1/cases/{case.pk}/notes",
                {"text": "hi"}, headers).status_code == 404
    assert client.get(f"/api/v1/cases/{case.pk}/follow-ups", **headers).status_code == 404
    assert post(client, f"/api/v1/replies/{held.pk}/approve", {}, headers).status_code == 404
    assert not Note.objects.exists() and not FollowUp.objects.exists()


def test_the_endpoints_need_a_token(client, case, held):
    for method, url in (("post", f"/api/v1/cases/{case.pk}/replies"),
                        ("post", f"/api/v1/cases/{case.pk}/notes"),
                        ("get", f"/api/v1/cases/{case.pk}/follow-ups"),
                        ("post", f"/api/v1/replies/{held.pk}/approve"),
                        ("post", f"/api/v1/replies/{held.pk}/return")):
        response = getattr(client, method)(url, content_type="application/json")
        assert response.status_code == 401, url


def test_a_reply_that_was_not_delivered_is_sent_again_through_the_api(
        client, teams, agent, api_token, outbox, django_capture_on_commit_callbacks):
    case = make_case(teams["care"], assignee=agent)
    reply = do_submit_reply(case, agent, "Sorry to hear that, we've sent you a DM.", "public")
    Reply.objects.filter(pk=reply.pk).update(status=Reply.Status.FAILED, attempts=5,
                                             last_error="the platform was down")
    headers = auth(api_token)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/api/v1/replies/{reply.pk}/retry", **headers)
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["last_error"]) == ("queued", "")
    assert Reply.objects.get(pk=reply.pk).status == Reply.Status.SENT
    again = client.post(f"/api/v1/replies/{reply.pk}/retry", **headers)
    assert again.status_code == 422 and "only a reply" in again.json()["detail"]
    assert client.post(f"/api/v1/replies/{reply.pk}/delivered", **headers).status_code == 422
