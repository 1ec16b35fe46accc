"""Every page needs a login; an agent sees only their teams' cases."""

import pytest
from django.contrib import admin as django_admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import post
from socialdesk.cases.models import Case

COMPLAINT = "my kettle stopped working after a week, really disappointed"


@pytest.fixture
def care_case(feed, teams):
    feed(post("1", COMPLAINT))
    case = Case.objects.get()
    assert case.team.slug == "care"
    return case


def pages(case):
    return [
        ("get", reverse("web:inbox")),
        ("get", reverse("web:case", args=[case.pk])),
        ("get", reverse("web:report")),
        ("post", reverse("web:reply", args=[case.pk])),
        ("post", reverse("web:assign_to_me", args=[case.pk])),
        ("post", reverse("web:status", args=[case.pk])),
        ("get", reverse("admin:index")),
    ]


def test_every_page_sends_an_anonymous_visitor_to_the_login(client, care_case):
    for method, url in pages(care_case):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("web:login")), url
    care_case.refresh_from_db()
    assert care_case.assignee is None and care_case.status == "new"
    assert not care_case.replies.exists()


def test_an_agent_of_another_team_cannot_reach_a_case_by_id(client, care_case, outsider):
    client.force_login(outsider)
    for method, url in pages(care_case)[1:-1]:
        if url == reverse("web:report"):
            continue
        assert getattr(client, method)(url).status_code == 404, url
    assert care_case.pk not in [c.pk for c in client.get(reverse("web:inbox")).context["page"]]
    care_case.refresh_from_db()
    assert care_case.assignee_id != outsider.pk


def test_an_agent_works_their_teams_case(client, care_case, agent):
    client.force_login(agent)
    assert client.get(reverse("web:case", args=[care_case.pk])).status_code == 200
    assert care_case.pk in [c.pk for c in client.get(reverse("web:inbox")).context["page"]]


def test_a_supervisor_sees_their_teams_and_the_teams_below_not_others(client, feed,
                                                                     supervisor, teams):
    feed(post("1", "the kettle burned my hand, it is dangerous"))
    case = Case.objects.get()
    assert case.team.slug == "pr"
    client.force_login(supervisor)
    assert client.get(reverse("web:case", args=[case.pk])).status_code == 404
    teams["pr"].parent = teams["care"]
    teams["pr"].save()
    assert client.get(reverse("web:case", args=[case.pk])).status_code == 200


def test_the_admin_site_is_for_admins_only(client, agent, admin_user):
    client.force_login(agent)
    assert client.get(reverse("admin:index")).status_code == 302
    client.force_login(admin_user)
    assert client.get(reverse("admin:index")).status_code == 200


def test_posts_need_csrf(care_case, agent):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent)
    response = strict.post(reverse("web:reply", args=[care_case.pk]),
                           {"text": "hello", "visibility": "public"})
    assert response.status_code == 403
    assert not care_case.replies.exists()


def test_the_inbox_costs_the_same_queries_for_few_or_many_cases(client, feed, agent,
                                                                 django_assert_num_queries):
    client.force_login(agent)
    feed(*[post(str(i), COMPLAINT, author=f"c{i}") for i in range(3)])
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("web:inbox"))
    feed(*[post(str(i), COMPLAINT, author=f"c{i}") for i in range(3, 40)])
    with django_assert_num_queries(len(few)):
        response = client.get(reverse("web:inbox"))
    assert len(response.context["page"]) == 40


def test_an_admin_can_open_every_admin_list(client, admin_user, care_case):
    client.force_login(admin_user)
    for model in django_admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url
