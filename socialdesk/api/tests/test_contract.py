"""The API keeps the contract its OpenAPI document states: every answer JSON, every
status code documented, limits in the schema equal to what the endpoints take."""

import json
import logging

import pytest
from django.test import Client
from django.urls import reverse

from socialdesk.api.api import api
from socialdesk.cases.tests.cases_helpers import make_case
from socialdesk.ingestion.actions import do_store_posts
from socialdesk.ingestion.models import Post
from socialdesk.pipeline import QueueUnavailable

BEYOND_64_BITS = 2**63
GOOD = {"channel": "x", "external_id": "1", "author": "carol",
        "text": "my kettle stopped working, really disappointed",
        "created_at": "2026-11-16T09:00:00+00:00"}


def auth(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def post_json(client, url, body, token=None, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, data, content_type="application/json",
                       **(auth(token) if token else {}), **extra)


def records(count, text="my kettle stopped working", prefix=""):
    return [{**GOOD, "external_id": f"{prefix}{i}", "text": text} for i in range(count)]


@pytest.fixture
def case(teams, agent):
    return make_case(teams["care"], assignee=agent)


def assert_json_error(response, status):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert isinstance(response.json()["detail"], str)
    return response.json()


# -- Numbers beyond what the database holds -------------------------------------------


def test_an_offset_beyond_64_bits_is_refused_not_a_server_error(client, api_token):
    body = assert_json_error(
        client.get("/api/v1/cases", {"offset": BEYOND_64_BITS}, **auth(api_token)), 422)
    assert body["errors"][0]["loc"] == ["query", "offset"]


def test_the_largest_offset_the_schema_allows_answers_an_empty_page(client, api_token):
    response = client.get("/api/v1/cases", {"offset": BEYOND_64_BITS - 1}, **auth(api_token))
    assert response.status_code == 200 and response.json() == []


@pytest.mark.parametrize("path", [
    "/api/v1/cases/{id}", "/api/v1/cases/{id}/follow-ups", "/api/v1/cases/{id}/saved-replies",
    "/api/v1/cases/1/saved-replies/{id}", "/api/v1/posts/{id}/corrections",
    "/api/v1/contacts/{id}", "/api/v1/contacts/{id}/cases", "/api/v1/contacts/{id}/export"])
def test_an_id_in_a_path_beyond_64_bits_or_below_1_is_refused(client, api_token, path):
    for bad in (BEYOND_64_BITS, 10**30, 0, -1):
        assert_json_error(client.get(path.format(id=bad), **auth(api_token)), 422)
    assert_json_error(client.get(path.format(id=BEYOND_64_BITS - 1), **auth(api_token)), 404)


@pytest.mark.parametrize("path, body", [
    ("/api/v1/cases/{id}/notes", {"text": "called the customer"}),
    ("/api/v1/cases/{id}/priority", {"priority": "P1"}),
    ("/api/v1/replies/{id}/return", {"comment": "too curt"}),
    ("/api/v1/contacts/merges/{id}/unmerge", None),
])
def test_an_id_beyond_64_bits_is_refused_on_the_writing_endpoints_too(client, api_token,
                                                                      path, body):
    for bad in (BEYOND_64_BITS, 0):
        assert_json_error(post_json(client, path.format(id=bad), body or "", api_token), 422)


def test_a_bulk_action_with_an_id_beyond_64_bits_is_refused(client, api_token, case):
    response = post_json(client, "/api/v1/inbox/bulk",
                         {"action": "resolve", "case_ids": [case.pk, BEYOND_64_BITS]}, api_token)
    body = assert_json_error(response, 422)
    assert body["errors"][0]["loc"][-2:] == ["case_ids", 1]
    case.refresh_from_db()
    assert case.status != "resolved"


def test_a_merge_with_another_contact_beyond_64_bits_is_refused(client, api_token, case):
    response = post_json(client, f"/api/v1/contacts/{case.contact_id}/merge",
                         {"other": BEYOND_64_BITS}, api_token)
    assert_json_error(response, 422)


# -- Dates at the ends of the calendar --------------------------------------------------


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Pacific/Kiritimati"])
def test_the_api_inbox_takes_dates_at_either_end_of_the_calendar(client, api_token, case,
                                                                 settings, zone):
    settings.TIME_ZONE = zone

    def listed(**dates):
        response = client.get("/api/v1/inbox", {"view": "all", **dates}, **auth(api_token))
        assert response.status_code == 200, response.content[:300]
        return [row["id"] for row in response.json()["results"]]

    assert listed(opened_to="9999-12-31") == [case.pk]
    assert listed(opened_to="9999-12-30") == [case.pk]
    assert listed(opened_from="0001-01-01") == [case.pk]
    assert listed(opened_from="0001-01-01", opened_to="0001-01-01") == []
    assert listed(opened_from="9999-12-31") == []
    assert listed(opened_from="9999-12-31", opened_to="9999-12-31") == []


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Pacific/Kiritimati"])
def test_the_web_inbox_takes_dates_at_either_end_of_the_calendar(client, agent, case,
                                                                 settings, zone):
    settings.TIME_ZONE = zone
    client.force_login(agent)
    for dates in ({"opened_to": "9999-12-31"}, {"opened_from": "9999-12-31"},
                  {"opened_from": "0001-01-01", "opened_to": "9999-12-31"}):
        assert client.get(reverse("web:inbox"), {"view": "all", **dates}).status_code == 200
        assert client.get(reverse("web:inbox_changes"),
                          {"view": "all", "since": "2026-11-16T09:00:00+00:00", **dates}
                          ).status_code == 200


def test_a_date_is_a_calendar_date_not_a_number(client, api_token):
    for bad in ("0", "1700000000", "2026-13-01", "16/11/2026"):
        body = assert_json_error(client.get("/api/v1/inbox", {"opened_to": bad},
                                            **auth(api_token)), 422)
        assert body["errors"][0]["loc"] == ["query", "opened_to"]


# -- One JSON shape for every error -------------------------------------------------------


def test_an_unauthenticated_request_is_answered_401_in_json(client):
    assert assert_json_error(client.get("/api/v1/cases"), 401) == {"detail": "Unauthorized"}


def test_a_validation_error_says_where_and_why(client, api_token):
    body = assert_json_error(client.get("/api/v1/cases", {"limit": 0}, **auth(api_token)), 422)
    assert body["detail"].startswith("Invalid request: query.limit:")
    assert [(e["loc"], e["type"]) for e in body["errors"]] == \
        [(["query", "limit"], "greater_than_equal")]


def test_a_body_that_is_not_an_object_is_refused(client, api_token, case):
    for body in ('"AAA"', "[]", "3"):
        assert_json_error(post_json(client, f"/api/v1/cases/{case.pk}/tags", body, api_token),
                          422)
    case.refresh_from_db()
    assert not case.tags


def test_a_body_that_is_not_json_is_a_400_in_json(client, api_token):
    assert_json_error(post_json(client, "/api/v1/posts", "{", api_token), 400)


def test_an_unknown_url_and_a_wrong_method_answer_json(client, api_token):
    assert_json_error(client.get("/api/v1/no-such-thing", **auth(api_token)), 404)
    response = client.put("/api/v1/cases", **auth(api_token))
    assert assert_json_error(response, 405) == {"detail": "Method Not Allowed"}
    assert response["Allow"] == "GET"


def test_a_server_error_under_the_api_is_json(api_token, monkeypatch):
    def broken(user):
        raise RuntimeError("something the code did not foresee")

    monkeypatch.setattr("socialdesk.api.api.cases_visible_to", broken)
    client = Client(raise_request_exception=False)
    assert assert_json_error(client.get("/api/v1/cases", **auth(api_token)), 500) == \
        {"detail": "Internal Server Error"}


def test_errors_outside_the_api_keep_their_pages(client, agent):
    client.force_login(agent)
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


# -- Request size -------------------------------------------------------------------------


def test_a_batch_of_70_records_of_40000_characters_is_accepted(client, teams, api_token):
    # Escaped as JSON does by default (\u00e9, 6 bytes a character): 16.8 MB, far past
    # Django's 2.5 MB.
    body = json.dumps({"records": records(70, "é" * 40_000)})
    assert len(body) > 16_000_000
    response = post_json(client, "/api/v1/posts", body, api_token)
    assert response.status_code == 200, response.content[:300]
    assert (response.json()["created"], response.json()["rejected"]) == (70, 0)
    assert Post.objects.count() == 70


def test_the_body_limit_takes_a_full_batch_however_its_text_is_escaped(settings):
    record = {**GOOD, "external_id": "x" * 255, "author": "a" * 255,
              "url": "https://example.com/" + "p" * 1980,
              "text": "\u00e9" * settings.MAX_POST_CHARS}
    assert len(json.dumps(record)) > 6 * settings.MAX_POST_CHARS
    full = len(json.dumps({"records": [record] * settings.API_MAX_BATCH}))
    assert full <= settings.API_MAX_BODY_BYTES


def test_a_body_over_the_batch_limit_is_a_413_in_json_and_nothing_is_stored(
        client, teams, api_token, settings):
    settings.API_MAX_BODY_BYTES = 10_000
    body = json.dumps({"records": records(80)})
    assert len(body) > 10_000
    for url in ("/api/v1/posts", "/api/v1/triage"):
        response = post_json(client, url, body, api_token)
        assert "10,000 bytes" in assert_json_error(response, 413)["detail"]
    assert not Post.objects.exists()


def test_an_oversized_body_without_a_valid_token_is_a_401(client, teams, settings):
    settings.API_MAX_BODY_BYTES = 10_000
    response = post_json(client, "/api/v1/posts", json.dumps({"records": records(80)}))
    assert_json_error(response, 401)


def test_a_body_over_djangos_limit_on_another_endpoint_is_a_413_in_json(client, api_token,
                                                                        case, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    response = post_json(client, f"/api/v1/cases/{case.pk}/notes", {"text": "n" * 2_000},
                         api_token)
    assert "1,000 bytes" in assert_json_error(response, 413)["detail"]


def test_more_records_than_the_batch_limit_is_a_413_in_json(client, teams, api_token,
                                                            settings):
    settings.API_MAX_BATCH = 2
    response = post_json(client, "/api/v1/posts", {"records": records(3)}, api_token)
    assert assert_json_error(response, 413) == {"detail": "at most 2 records a request"}


# -- A batch stored but not queued; a record the checks did not foresee ---------------------


def test_a_batch_stored_but_not_queued_is_a_503_saying_what_was_stored(
        client, teams, api_token, monkeypatch):
    def store_then_fail(checked, source):
        raise QueueUnavailable(do_store_posts(checked, source=source), 30, "broker down")

    post_json(client, "/api/v1/posts", {"records": records(1, prefix="old")}, api_token)
    monkeypatch.setattr("socialdesk.api.api.ingest", store_then_fail)
    batch = [*records(2, prefix="new"), {**GOOD, "external_id": "old0"},
             {**GOOD, "external_id": "bad", "created_at": "yesterday"},
             {**GOOD, "external_id": "new0"}]
    response = post_json(client, "/api/v1/posts", {"records": batch}, api_token)

    body = assert_json_error(response, 503)
    assert response["Retry-After"] == "30"
    assert "stored" in body["detail"] and "safe" in body["detail"]
    assert [r["status"] for r in body["results"]] == \
        ["created", "created", "duplicate", "rejected", "duplicate"]
    assert (body["created"], body["duplicates"], body["rejected"]) == (2, 2, 1)
    assert set(Post.objects.values_list("external_id", flat=True)) == {"old0", "new0", "new1"}

    monkeypatch.undo()
    again = post_json(client, "/api/v1/posts", {"records": batch}, api_token)
    assert again.status_code == 200
    assert [r["status"] for r in again.json()["results"]] == \
        ["duplicate", "duplicate", "duplicate", "rejected", "duplicate"]


def test_a_record_the_checks_did_not_foresee_is_rejected_and_the_others_kept(
        client, teams, api_token, monkeypatch, caplog):
    from socialdesk.ingestion.records import check_record

    def check(data, max_chars):
        if data.get("external_id") == "odd":
            raise TypeError("a case the checks did not foresee")
        return check_record(data, max_chars)

    monkeypatch.setattr("socialdesk.api.api.check_record", check)
    batch = [{**GOOD, "external_id": "1"}, {**GOOD, "external_id": "odd"},
             {**GOOD, "external_id": "2"}]
    with caplog.at_level(logging.ERROR, logger="socialdesk.api.api"):
        response = post_json(client, "/api/v1/posts", {"records": batch}, api_token)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created", "rejected", "created"]
    assert results[1]["external_id"] == "odd" and "could not be checked" in results[1]["error"]
    assert "record 1 of an API batch" in caplog.text
    assert set(Post.objects.values_list("external_id", flat=True)) == {"1", "2"}


# -- The document says all of it -------------------------------------------------------------


@pytest.fixture
def document():
    return json.loads(json.dumps(api.get_openapi_schema()))


def test_every_operation_documents_the_errors_any_request_can_meet(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            assert {"400", "401", "422", "429"} <= codes, (method, path)
            if "requestBody" in operation:
                assert "413" in codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            for code, answer in operation["responses"].items():
                assert "application/json" in answer["content"], (method, path, code)
                if code in ("429", "503"):
                    assert "Retry-After" in answer["headers"]


def test_the_document_states_the_limits_the_endpoints_take(document, settings):
    for item in document["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["schema"]["type"] == "integer":
                    assert (parameter["schema"]["minimum"], parameter["schema"]["maximum"]) \
                        == (1, 2**63 - 1)
                elif parameter["in"] == "path":  # a webhook source's name
                    assert parameter["schema"]["maxLength"] == 24
                    assert parameter["schema"]["pattern"]
    batch = document["components"]["schemas"]["PostBatchIn"]["properties"]["records"]
    assert batch["maxItems"] == settings.API_MAX_BATCH
    posts = document["paths"]["/api/v1/posts"]["post"]["responses"]
    # Stored but not queued (the results), or no database at all (just the detail).
    shapes = posts["503"]["content"]["application/json"]["schema"]["anyOf"]
    assert sorted(shape["$ref"].rsplit("/", 1)[1] for shape in shapes) == \
        ["ErrorOut", "PostBatchStoredOut"]


def test_a_database_that_cannot_be_reached_is_a_503_with_retry_after(client, api_token,
                                                                     monkeypatch):
    from django.db import OperationalError

    from socialdesk.api import api as api_module

    def unreachable(user):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(api_module, "cases_visible_to", unreachable)
    response = client.get("/api/v1/cases", **auth(api_token))
    assert_json_error(response, 503)
    assert int(response["Retry-After"]) >= 1
    assert "nothing is stored twice" in response.json()["detail"]
    documented = api.get_openapi_schema()["paths"]["/api/v1/cases"]["get"]["responses"]
    assert 503 in documented
