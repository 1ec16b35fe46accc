from socialdesk.accounts.actions import do_revoke_api_token
from socialdesk.accounts.models import ApiToken
from socialdesk.cases.models import Case
from socialdesk.ingestion.models import Post

GOOD = {"channel": "x", "external_id": "1", "author": "carol",
        "text": "my kettle stopped working, really disappointed",
        "created_at": "2026-11-16T09:00:00+00:00"}


def auth(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_every_endpoint_needs_a_valid_token(client, agent, api_token):
    endpoints = [("post", "/api/v1/posts"), ("post", "/api/v1/triage"), ("get", "/api/v1/cases"),
                 ("get", "/api/v1/cases/1"), ("get", "/api/v1/openapi.json"),
                 ("get", "/api/v1/docs")]
    for method, url in endpoints:
        for headers in ({}, auth("sdk_not-a-real-token"), auth(api_token[:-2])):
            kwargs = {"data": {"records": [GOOD]}, "content_type": "application/json"} \
                if method == "post" else {}
            response = getattr(client, method)(url, **kwargs, **headers)
            assert response.status_code == 401, (url, headers)
    assert not Post.objects.exists()


def test_a_revoked_token_stops_working(client, agent, api_token):
    assert client.get("/api/v1/cases", **auth(api_token)).status_code == 200
    do_revoke_api_token(ApiToken.objects.get())
    assert client.get("/api/v1/cases", **auth(api_token)).status_code == 401


def test_tokens_are_stored_only_as_hashes(api_token):
    row = ApiToken.objects.get()
    assert api_token not in (row.digest, row.prefix) and row.digest == ApiToken.hash(api_token)


def test_a_batch_reports_each_record(client, teams, api_token):
    bad = {**GOOD, "external_id": "2", "created_at": "not a date"}
    records = [GOOD, bad, GOOD, {**GOOD, "external_id": "3", "text": "love it, thanks!"}]
    response = client.post("/api/v1/posts", {"records": records},
                           content_type="application/json", **auth(api_token))
    assert response.status_code == 200
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["created", "rejected", "duplicate",
                                                      "created"]
    assert "ISO 8601" in body["results"][1]["error"]
    assert (body["created"], body["duplicates"], body["rejected"]) == (2, 1, 1)
    assert Case.objects.count() == 2

    again = client.post("/api/v1/posts", {"records": [GOOD]}, content_type="application/json",
                        **auth(api_token)).json()
    assert again["results"][0]["status"] == "duplicate"


def test_a_batch_over_the_limit_is_refused(client, teams, api_token, settings):
    settings.API_MAX_BATCH = 2
    response = client.post("/api/v1/posts", {"records": [GOOD] * 3},
                           content_type="application/json", **auth(api_token))
    assert response.status_code == 413
    assert not Post.objects.exists()


def test_cases_are_scoped_to_the_tokens_user(client, feed, outsider, api_token):
    from socialdesk.accounts.actions import do_create_api_token

    feed(GOOD)
    case = Case.objects.get()
    assert client.get(f"/api/v1/cases/{case.pk}", **auth(api_token)).status_code == 200
    other = do_create_api_token(outsider, "t")[1]
    assert client.get(f"/api/v1/cases/{case.pk}", **auth(other)).status_code == 404
    assert client.get("/api/v1/cases", **auth(other)).json() == []


def test_triage_endpoint_follows_the_contract(client, api_token):
    response = client.post("/api/v1/triage", {"records": [GOOD]},
                           content_type="application/json", **auth(api_token))
    result = response.json()["results"][0]
    assert list(result) == ["channel", "external_id", "sentiment", "category", "decision",
                            "severity", "priority", "team", "reasons"]
    assert (result["category"], result["decision"]) == ("complaint", "respond")


def test_the_openapi_document_describes_the_endpoints(client, agent):
    client.force_login(agent)
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/posts", "/api/v1/triage", "/api/v1/cases", "/api/v1/cases/{case_id}"} <= \
        set(paths)
