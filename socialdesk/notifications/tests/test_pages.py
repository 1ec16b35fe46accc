"""The notifications page, mark-read and the unread count: each person sees and
marks only their own."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from socialdesk.notifications.actions import do_notify
from socialdesk.notifications.models import Notification


@pytest.fixture
def mine(agent, case):
    start = timezone.now() - timedelta(hours=1)
    older = do_notify("sla.warning", "C-1 is due soon", [agent], case=case, at=start)[0]
    newer = do_notify("mention", "bob mentioned you", [agent], at=start + timedelta(minutes=5))[0]
    return older, newer


@pytest.fixture
def theirs(teammate):
    return do_notify("mention", "a secret for bob only", [teammate])[0]


def unread(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def test_anonymous_visitors_are_sent_to_the_login(client, theirs):
    for method, name in [("get", "list"), ("post", "read"), ("get", "count")]:
        response = getattr(client, method)(reverse(f"notifications:{name}"))
        assert response.status_code == 302, name
        assert response.url.startswith(reverse("web:login")), name
    assert unread(theirs.user) == 1


def test_the_page_lists_my_notifications_newest_first_with_links_to_cases(
        client, agent, case, mine, theirs):
    older, newer = mine
    client.force_login(agent)
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 200
    assert [n.pk for n in response.context["page"]] == [newer.pk, older.pk]
    html = response.content.decode()
    assert f'href="{reverse("web:case", args=[case.pk])}"' in html
    assert html.count('class="unread"') == 2
    assert "a secret for bob only" not in html
    assert f"notification-{theirs.pk}" not in html


def test_a_read_notification_is_no_longer_marked_unread(client, agent, mine):
    older, newer = mine
    client.force_login(agent)
    client.post(reverse("notifications:read"), {"id": [older.pk]})
    html = client.get(reverse("notifications:list")).content.decode()
    assert f'id="notification-{older.pk}" class="read"' in html
    assert f'id="notification-{newer.pk}" class="unread"' in html


def test_the_page_shows_fifty_at_a_time(client, agent):
    now = timezone.now()
    for i in range(51):
        do_notify("mention", f"note {i}", [agent], at=now + timedelta(seconds=i))
    client.force_login(agent)
    first = client.get(reverse("notifications:list")).context["page"]
    second = client.get(reverse("notifications:list"), {"page": 2}).context["page"]
    assert len(first) == 50 and first[0].text == "note 50"
    assert [n.text for n in second] == ["note 0"]


def test_the_page_costs_the_same_queries_for_one_or_many(client, agent, case,
                                                        django_assert_max_num_queries):
    client.force_login(agent)
    do_notify("sla.warning", "one", [agent], case=case)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("notifications:list"))
    for i in range(30):
        do_notify("sla.warning", f"more {i}", [agent], case=case)
    with django_assert_max_num_queries(len(few)):
        client.get(reverse("notifications:list"))


def test_marking_posted_ids_read_leaves_the_rest_and_other_peoples_alone(
        client, agent, mine, theirs):
    older, newer = mine
    client.force_login(agent)
    response = client.post(reverse("notifications:read"), {"id": [older.pk, theirs.pk]})
    assert response.status_code == 302
    assert response.url == reverse("notifications:list")
    older.refresh_from_db(), newer.refresh_from_db(), theirs.refresh_from_db()
    assert older.read_at is not None
    assert newer.read_at is None
    assert theirs.read_at is None


def test_marking_all_read_marks_only_mine(client, agent, mine, theirs):
    client.force_login(agent)
    response = client.post(reverse("notifications:read"), {"page": "2"})
    assert response.url == reverse("notifications:list") + "?page=2"
    assert unread(agent) == 0
    assert unread(theirs.user) == 1


def test_ids_that_are_not_numbers_are_refused(client, agent, mine):
    client.force_login(agent)
    response = client.post(reverse("notifications:read"), {"id": ["1 OR 1=1"]})
    assert response.status_code == 400
    assert unread(agent) == 2


def test_mark_read_needs_a_post_with_csrf(agent, mine):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent)
    assert strict.post(reverse("notifications:read")).status_code == 403
    assert strict.get(reverse("notifications:read")).status_code == 405
    assert unread(agent) == 2


def test_the_count_is_my_unread_notifications(client, agent, mine, theirs):
    client.force_login(agent)
    response = client.get(reverse("notifications:count"))
    assert response.json() == {"unread": 2}
    assert "no-store" in response["Cache-Control"]
    client.post(reverse("notifications:read"), {"id": [mine[0].pk]})
    assert client.get(reverse("notifications:count")).json() == {"unread": 1}


def test_the_count_is_a_badge_for_htmx(client, agent, mine):
    client.force_login(agent)
    response = client.get(reverse("notifications:count"), headers={"HX-Request": "true"})
    assert response["Content-Type"].startswith("text/html")
    assert '<span class="chip">2</span>' in response.content.decode()
    assert "HX-Request" in response["Vary"]
    client.post(reverse("notifications:read"))
    badge = client.get(reverse("notifications:count"), headers={"HX-Request": "true"})
    assert "chip" not in badge.content.decode()
