"""POST and GET /api/v1/posts/{id}/corrections: labels with who and when, scoped by team."""

import pytest

from conftest import post
from socialdesk.accounts.actions import do_create_api_token
from socialdesk.cases.models import Case
from socialdesk.ingestion.models import Post
from socialdesk.triage.models import Correction, Triage

COMPLAINT = "my kettle stopped working after a week, really disappointed"


def auth(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def complaint(feed, teams):
    feed(post("1", COMPLAINT))
    return Post.objects.get()


def send(client, token, post_id, body):
    return client.post(f"/api/v1/posts/{post_id}/corrections", body,
                       content_type="application/json", **auth(token))


def test_a_correction_is_created_with_the_updated_triage(client, complaint, agent, api_token):
    response = send(client, api_token, complaint.pk,
                    {"field": "category", "value": "praise", "note": "a thank-you"})

    assert response.status_code == 201
    body = response.json()
    assert {k: body["correction"][k] for k in ("post_id", "field", "value", "previous", "note",
                                               "created_by")} == {
        "post_id": complaint.pk, "field": "category", "value": "praise",
        "previous": "complaint", "note": "a thank-you", "created_by": "alice"}
    assert body["correction"]["created_at"]
    triage = body["triage"]
    assert (triage["category"], triage["decision"], triage["priority"], triage["owner_team"]) == (
        "praise", "respond", "P4", "community")
    assert triage["corrected_at"] is not None
    assert "corrected by alice: category complaint → praise" in triage["reasons"]
    assert Correction.objects.get().created_by == agent
    assert Case.objects.get().category == "praise"


def test_the_corrections_of_a_post_are_listed_oldest_first(client, complaint, api_token):
    send(client, api_token, complaint.pk, {"field": "sentiment", "value": "neutral"})
    send(client, api_token, complaint.pk, {"field": "decision", "value": "monitor"})

    response = client.get(f"/api/v1/posts/{complaint.pk}/corrections", **auth(api_token))

    assert response.status_code == 200
    assert [(c["field"], c["previous"], c["value"]) for c in response.json()] == [
        ("sentiment", "negative", "neutral"), ("decision", "respond", "monitor")]
    assert Triage.objects.get(post=complaint).decision == "monitor"


@pytest.mark.parametrize(("body", "message"), [
    ({"field": "category", "value": "angry"}, "'angry' is not a category"),
    ({"field": "decision", "value": "respond"}, "The decision is already respond"),
])
def test_it_rejects_a_bad_value_or_a_no_op_with_a_clear_message(client, complaint, api_token,
                                                                 body, message):
    response = send(client, api_token, complaint.pk, body)

    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert not Correction.objects.exists()


def test_it_rejects_an_unknown_field(client, complaint, api_token):
    response = send(client, api_token, complaint.pk, {"field": "severity", "value": "3"})

    assert response.status_code == 422
    assert "'category', 'sentiment' or 'decision'" in str(response.json()["detail"])
    assert not Correction.objects.exists()


def test_a_post_outside_the_users_teams_is_not_found(client, complaint, outsider):
    token = do_create_api_token(outsider, "t")[1]

    assert send(client, token, complaint.pk,
                {"field": "category", "value": "praise"}).status_code == 404
    assert client.get(f"/api/v1/posts/{complaint.pk}/corrections",
                      **auth(token)).status_code == 404
    assert send(client, token, 999_999, {"field": "category", "value": "praise"}).status_code \
        == 404
    assert not Correction.objects.exists()


def test_a_teammate_may_correct_and_read_the_corrections(client, complaint, teammate,
                                                         api_token):
    send(client, api_token, complaint.pk, {"field": "category", "value": "question"})
    token = do_create_api_token(teammate, "t")[1]

    assert send(client, token, complaint.pk,
                {"field": "decision", "value": "escalate"}).status_code == 201
    listed = client.get(f"/api/v1/posts/{complaint.pk}/corrections", **auth(token)).json()
    assert [c["created_by"] for c in listed] == ["alice", "bob"]


def test_the_endpoints_need_a_token(client, complaint):
    url = f"/api/v1/posts/{complaint.pk}/corrections"
    assert client.get(url).status_code == 401
    assert client.post(url, {"field": "category", "value": "praise"},
                       content_type="application/json").status_code == 401
    assert not Correction.objects.exists()


def test_the_openapi_document_describes_the_corrections(client, api_token):
    response = client.get("/api/v1/openapi.json", **auth(api_token))

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(paths["/api/v1/posts/{post_id}/corrections"]) == {"get", "post"}
    schemas = response.json()["components"]["schemas"]
    assert schemas["CorrectionIn"]["properties"]["field"]["enum"] == [
        "category", "sentiment", "decision"]
