"""Correcting triage from the case page: teammates can, outsiders cannot see it exists."""

import pytest
from django.test import Client
from django.urls import reverse

from conftest import post
from socialdesk.cases.models import Case
from socialdesk.ingestion.models import Post
from socialdesk.triage.feedback import do_correct_triage
from socialdesk.triage.models import Correction, Triage

COMPLAINT = "my kettle stopped working after a week, really disappointed"


@pytest.fixture
def complaint(feed, teams):
    feed(post("1", COMPLAINT))
    return Post.objects.select_related("case").get()


def correct_url(p):
    return reverse("web:correct_triage", args=[p.case_id, p.pk])


def form_data(p, **changes):
    """What the case page's form posts: every select, with the value it was shown with."""
    triage = Triage.objects.get(post=p)
    data = {}
    for name in ("category", "sentiment", "decision"):
        shown = getattr(triage, name)
        data[f"post{p.pk}-{name}"] = changes.get(name, shown)
        data[f"initial-post{p.pk}-{name}"] = shown
    data[f"post{p.pk}-note"] = changes.get("note", "")
    return data


def test_the_case_page_offers_a_correction_form_and_shows_the_history(client, complaint, agent,
                                                                      teammate):
    do_correct_triage(complaint, "category", "question", teammate, note="they asked how")
    client.force_login(agent)

    page = client.get(reverse("web:case", args=[complaint.case_id])).content.decode()

    assert f'action="{correct_url(complaint)}"' in page
    assert f'name="post{complaint.pk}-category"' in page
    assert "csrfmiddlewaretoken" in page
    assert "bob changed category complaint → question" in page
    assert "they asked how" in page
    assert "<script>" not in page.split("<main", 1)[1]


def test_a_teammate_corrects_the_category_and_the_case_follows(client, complaint, agent):
    client.force_login(agent)

    response = client.post(correct_url(complaint),
                           form_data(complaint, category="question", note="a how-to"))

    assert response.status_code == 302
    assert response.url == reverse("web:case", args=[complaint.case_id]) + \
        f"#triage-{complaint.pk}"
    correction = Correction.objects.get()
    assert (correction.field, correction.previous, correction.value, correction.note,
            correction.created_by) == ("category", "complaint", "question", "a how-to", agent)
    assert Case.objects.get().category == "question"
    page = client.get(response.url).content.decode()
    assert "Triage corrected: category complaint → question." in page


def test_a_correction_that_hands_the_case_to_another_team_says_so(client, complaint, agent):
    client.force_login(agent)
    response = client.post(correct_url(complaint), form_data(complaint, category="praise"),
                           follow=True)
    case = Case.objects.select_related("team").get()
    assert case.team.slug != "care" and case.assignee != agent
    assert response.redirect_chain[-1][0] == reverse("web:inbox")
    page = response.content.decode()
    assert f"{case.ref} now belongs to {case.team.name}" in page


def test_only_the_fields_a_person_changed_are_corrected(client, complaint, agent, teammate):
    client.force_login(agent)
    stale = form_data(complaint, decision="escalate")
    # A colleague corrects the category after this page was loaded.
    do_correct_triage(complaint, "category", "question", teammate)

    client.post(correct_url(complaint), stale)

    triage = Triage.objects.get(post=complaint)
    assert (triage.category, triage.decision) == ("question", "escalate")
    assert [c.field for c in Correction.objects.all()] == ["category", "decision"]


@pytest.mark.parametrize(("changes", "message"), [
    ({}, "Nothing changed: pick a different category, sentiment or decision."),
    ({"category": "angry"}, "category: Select a valid choice."),
    ({"note": "x" * 2001}, "note: Ensure this value has at most 2000 characters"),
])
def test_it_shows_a_bad_correction_as_a_message(client, complaint, agent, changes, message):
    client.force_login(agent)

    response = client.post(correct_url(complaint), form_data(complaint, **changes), follow=True)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Correction.objects.exists()


def test_a_supervisor_and_an_admin_may_correct(client, complaint, supervisor, admin_user):
    client.force_login(supervisor)
    client.post(correct_url(complaint), form_data(complaint, sentiment="neutral"))
    client.force_login(admin_user)
    client.post(correct_url(complaint), form_data(complaint, decision="escalate"))

    assert [(c.field, c.created_by) for c in Correction.objects.all()] == [
        ("sentiment", supervisor), ("decision", admin_user)]


def test_an_agent_of_another_team_gets_404_and_changes_nothing(client, complaint, outsider):
    client.force_login(outsider)

    response = client.post(correct_url(complaint), form_data(complaint, category="praise"))

    assert response.status_code == 404
    assert not Correction.objects.exists()
    assert Triage.objects.get(post=complaint).category == "complaint"


def test_a_post_of_another_case_cannot_be_corrected_through_this_one(client, feed, complaint,
                                                                     agent):
    feed(post("2", "the lid of my kettle is loose, please help", author="dan"))
    other = Post.objects.get(external_id="2")
    assert other.case_id != complaint.case_id
    client.force_login(agent)

    url = reverse("web:correct_triage", args=[complaint.case_id, other.pk])
    assert client.post(url, form_data(other, category="praise")).status_code == 404
    assert not Correction.objects.exists()


def test_corrections_need_a_login_and_csrf(complaint, agent):
    anonymous = Client()
    response = anonymous.post(correct_url(complaint), form_data(complaint, category="praise"))
    assert response.status_code == 302 and response.url.startswith(reverse("web:login"))

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent)
    response = strict.post(correct_url(complaint), form_data(complaint, category="praise"))
    assert response.status_code == 403
    assert not Correction.objects.exists()


def test_a_correction_needs_a_post_request(client, complaint, agent):
    client.force_login(agent)
    assert client.get(correct_url(complaint)).status_code == 405
