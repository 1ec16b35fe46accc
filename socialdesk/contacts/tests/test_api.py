"""Contacts in the JSON API: profile, cases, merge, unmerge, export."""

import pytest

from conftest import post
from socialdesk.accounts.actions import do_create_api_token
from socialdesk.contacts.models import Merge
from socialdesk.contacts.tests.helpers import contact_of

COMPLAINT = "my kettle stopped working after a week, really disappointed"


def auth(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def two(feed, teams):
    feed(post("1", COMPLAINT, author="carol", author_name="Carol",
              author_avatar="https://cdn.example/c.png"),
         post("2", COMPLAINT, channel="instagram", author="carol.ig"))
    return contact_of("carol"), contact_of("carol.ig", "instagram")


def test_every_contact_endpoint_needs_a_token(client, two):
    x, _ = two
    for method, url in [("get", f"/api/v1/contacts/{x.pk}"),
                        ("get", f"/api/v1/contacts/{x.pk}/cases"),
                        ("post", f"/api/v1/contacts/{x.pk}/merge"),
                        ("post", "/api/v1/contacts/merges/1/unmerge"),
                        ("get", f"/api/v1/contacts/{x.pk}/export")]:
        assert getattr(client, method)(url).status_code == 401, url


def test_the_profile_and_its_cases(client, two, api_token):
    x, _ = two
    body = client.get(f"/api/v1/contacts/{x.pk}", **auth(api_token)).json()
    assert body["name"] == "Carol" and body["identities"][0]["handle"] == "carol"
    assert body["identities"][0]["profile_url"] == "https://x.com/carol"
    assert body["identities"][0]["photo_url"] == "https://cdn.example/c.png"
    cases = client.get(f"/api/v1/contacts/{x.pk}/cases", **auth(api_token)).json()
    assert [c["channel"] for c in cases] == ["x"] and cases[0]["ref"].startswith("C-")


def test_an_outsider_gets_404(client, two, outsider):
    x, ig = two
    token = do_create_api_token(outsider, "t")[1]
    assert client.get(f"/api/v1/contacts/{x.pk}", **auth(token)).status_code == 404
    assert client.get(f"/api/v1/contacts/{x.pk}/cases", **auth(token)).status_code == 404
    response = client.post(f"/api/v1/contacts/{x.pk}/merge", {"other": ig.pk},
                           content_type="application/json", **auth(token))
    assert response.status_code == 404 and not Merge.objects.exists()


def test_merge_and_unmerge(client, two, api_token):
    x, ig = two
    response = client.post(f"/api/v1/contacts/{x.pk}/merge", {"other": ig.pk},
                           content_type="application/json", **auth(api_token))
    assert response.status_code == 200
    merge = response.json()
    assert (merge["target"], merge["source"], merge["merged_by"]) == (x.pk, ig.pk, "alice")
    assert len(merge["moved"]["identities"]) == 1 and len(merge["moved"]["cases"]) == 1
    again = client.post(f"/api/v1/contacts/{x.pk}/merge", {"other": ig.pk},
                        content_type="application/json", **auth(api_token))
    assert again.status_code == 422 and "was merged into contact" in again.json()["detail"]
    bad = client.post(f"/api/v1/contacts/{x.pk}/merge", {"other": "two"},
                      content_type="application/json", **auth(api_token))
    assert bad.status_code == 422
    url = f"/api/v1/contacts/merges/{merge['id']}/unmerge"
    undone = client.post(url, **auth(api_token))
    assert undone.status_code == 200 and undone.json()["undone_by"] == "alice"
    assert client.post(url, **auth(api_token)).status_code == 422
    assert ig.identities.count() == 1


def test_only_supervisors_and_admins_export(client, two, api_token, supervisor):
    x, _ = two
    assert client.get(f"/api/v1/contacts/{x.pk}/export", **auth(api_token)).status_code == 403
    token = do_create_api_token(supervisor, "t")[1]
    body = client.get(f"/api/v1/contacts/{x.pk}/export", **auth(token)).json()
    assert body["format"] == "socialdesk-contact-export"
    assert body["posts"][0]["text"] == COMPLAINT
