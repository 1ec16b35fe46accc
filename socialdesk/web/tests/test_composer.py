"""The case page's composer and case properties: character counts, saved replies,
checking a draft before sending it, priority, tags and assignee."""

import pytest
from django.urls import reverse

from conftest import make_user
from socialdesk.accounts.actions import do_create_api_token
from socialdesk.audit.models import Event
from socialdesk.cases.models import Case, Reply, SavedReply
from socialdesk.cases.tests.cases_helpers import make_case

SORRY = "Sorry to hear that, we've sent you a DM."
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def case(teams, agent):
    return make_case(teams["care"], assignee=agent)


def page(client, case) -> str:
    response = client.get(reverse("web:case", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


# -- the composer on the page -------------------------------------------------------------


def test_the_composer_has_its_anchor_and_a_live_count_against_each_limit(client, case, agent):
    client.force_login(agent)
    html = page(client, case)
    assert 'id="composer"' in html
    assert ('<p class="counter" id="id_text-count" aria-live="polite" data-counter-for="id_text"\n'
            '   data-limit-public="280" data-limit-private="20000" '
            'data-visibility-select="id_visibility">0 of 280 characters</p>') in html
    assert 'aria-describedby="id_text-count"' in html
    assert "/static/web/composer.js" in html


def test_acknowledge_and_continue_comes_first_with_a_count_for_each_text(client, teams, agent):
    case = make_case(teams["care"], assignee=agent, reply_mode="acknowledge_then_private",
                     channel="bluesky")
    client.force_login(agent)
    html = page(client, case)
    composer = html[html.index('id="composer"'):]
    assert composer.index('id="ack-h"') < composer.index('id="reply-h"')
    assert 'data-counter-for="id_ack-public_text"\n   data-limit-public="300"' in html
    # A Bluesky chat message: 1,000 graphemes.
    assert 'data-counter-for="id_ack-private_text"\n   data-limit-public="1000"' in html


def test_the_server_still_refuses_a_public_reply_over_the_channel_limit(client, case, agent):
    client.force_login(agent)
    response = client.post(reverse("web:reply", args=[case.pk]), {
        "text": "Sorry about that! " + "x" * 280, "visibility": "public",
        "follow_up_on_expiry": "remind"})
    assert response.status_code == 422
    assert "x allows 280" in response.content.decode()
    assert not Reply.objects.exists()


def test_line_breaks_count_once_as_in_the_counter(client, case, agent):
    client.force_login(agent)
    text = "Sorry about that!\r\n" + "x" * 261  # 280 with one character per line break
    response = client.post(reverse("web:reply", args=[case.pk]), {
        "text": text, "visibility": "public", "follow_up_on_expiry": "remind"})
    assert response.status_code == 302
    assert Reply.objects.get().text == text.replace("\r\n", "\n")


# -- checking a draft ----------------------------------------------------------------------


def test_check_shows_the_findings_in_place_without_sending(client, case, agent):
    client.force_login(agent)
    response = client.post(reverse("web:check_reply", args=[case.pk]),
                           {"text": "Please DM us your order number.", "visibility": "public"},
                           **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "does not acknowledge the customer" in html
    assert 'name="confirm_warnings" value="no_acknowledgement"' in html
    assert not Reply.objects.exists()
    assert not Event.objects.filter(verb__startswith="reply.").exists()


def test_check_says_when_a_draft_may_go_out(client, case, agent):
    client.force_login(agent)
    response = client.post(reverse("web:check_reply", args=[case.pk]),
                           {"text": SORRY, "visibility": "public"}, **HTMX)
    assert "No guideline findings" in response.content.decode()


def test_without_script_check_shows_the_page_with_the_draft_and_its_findings(client, case, agent):
    client.force_login(agent)
    text = "Sorry! Write to carol.smith@gmail.com please."
    response = client.post(reverse("web:check_reply", args=[case.pk]),
                           {"text": text, "visibility": "public"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Must change:</strong> The public reply contains an e-mail address" in html
    assert "carol.smith@gmail.com please.</textarea>" in html
    assert not Reply.objects.exists()


def test_check_of_the_acknowledgement_labels_each_text(client, teams, agent):
    case = make_case(teams["care"], assignee=agent, reply_mode="acknowledge_then_private")
    client.force_login(agent)
    response = client.post(reverse("web:check_acknowledge", args=[case.pk]), {
        "ack-public_text": "We've sent you a DM.",
        "ack-private_text": "Call me on 020 7946 0958 or write to carol.smith@gmail.com"},
        **HTMX)
    html = response.content.decode()
    assert "Public acknowledgement: The public reply to a complaint does not acknowledge" in html
    assert 'name="ack-confirm_warnings" value="no_acknowledgement"' in html
    assert not Reply.objects.exists()


def test_an_empty_draft_is_a_finding_not_an_error(client, case, agent):
    client.force_login(agent)
    response = client.post(reverse("web:check_reply", args=[case.pk]),
                           {"text": "", "visibility": "public"}, **HTMX)
    assert response.status_code == 200
    assert "The reply is empty" in response.content.decode()


def test_check_refuses_an_unknown_visibility_with_a_message(client, case, agent):
    client.force_login(agent)
    response = client.post(reverse("web:check_reply", args=[case.pk]),
                           {"text": SORRY, "visibility": "shouted"}, **HTMX)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


# -- saved replies in the composer -----------------------------------------------------------


def test_the_composer_offers_the_cases_saved_replies_and_fills_one_in(client, case, agent, teams):
    offered = SavedReply.objects.create(name="Sorry + DM", team=teams["care"],
                                        text="Hi {first_name}, sorry! {agent_name}, {case_ref}")
    SavedReply.objects.create(name="Comms only", text="x", team=teams["comms"])
    client.force_login(agent)
    html = page(client, case)
    url = reverse("web:saved_reply_text", args=[case.pk, offered.pk])
    assert f'<option value="{url}">Sorry + DM (Care)</option>' in html
    assert 'data-saved-reply-for="id_text"' in html
    assert "Comms only" not in html
    response = client.get(url)
    assert response.status_code == 200
    assert response.json() == {"id": offered.pk, "name": "Sorry + DM",
                               "text": f"Hi Carol, sorry! alice, {case.ref}"}


def test_a_saved_reply_the_case_does_not_offer_is_a_404(client, case, agent, teams, outsider):
    other = SavedReply.objects.create(name="Comms only", text="x", team=teams["comms"])
    mine = SavedReply.objects.create(name="Care", text="x", team=teams["care"])
    client.force_login(agent)
    assert client.get(reverse("web:saved_reply_text", args=[case.pk, other.pk])).status_code \
        == 404
    client.force_login(outsider)
    assert client.get(reverse("web:saved_reply_text", args=[case.pk, mine.pk])).status_code \
        == 404


def test_a_broken_saved_reply_answers_with_a_message_not_its_braces(client, case, agent):
    broken = SavedReply.objects.create(name="Old", text="Hi {nickname}")
    client.force_login(agent)
    response = client.get(reverse("web:saved_reply_text", args=[case.pk, broken.pk]))
    assert response.status_code == 422
    assert "{nickname} is not a variable" in response.json()["detail"]
    assert "text" not in response.json()


# -- priority, tags, assignee -------------------------------------------------------------


def test_an_agent_sets_the_priority_and_the_history_says_so(client, case, agent):
    client.force_login(agent)
    response = client.post(reverse("web:priority", args=[case.pk]), {"priority": "P0"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.priority == "P0"
    event = Event.objects.get(verb="case.priority_changed")
    assert (event.actor, event.data) == (agent, {"before": "P2", "after": "P0"})
    assert "alice changed the priority from P2 to P0" in page(client, case)


def test_a_priority_outside_p0_to_p3_is_refused(client, case, agent):
    client.force_login(agent)
    for value in ("P4", "P9", ""):
        response = client.post(reverse("web:priority", args=[case.pk]), {"priority": value})
        assert response.status_code == 302
        assert any("valid choice" in m or "required" in m for m in messages_of(response))
    case.refresh_from_db()
    assert case.priority == "P2"
    assert not Event.objects.filter(verb="case.priority_changed").exists()


def test_tags_are_added_lower_cased_and_removed(client, case, agent):
    client.force_login(agent)
    client.post(reverse("web:tags", args=[case.pk]), {"add": "Refund, vip refund"})
    case.refresh_from_db()
    assert case.tags == ["refund", "vip"]
    client.post(reverse("web:tags", args=[case.pk]), {"remove": "refund"})
    case.refresh_from_db()
    assert case.tags == ["vip"]
    changes = [e.data for e in Event.objects.filter(verb="case.tags_changed").order_by("id")]
    assert changes == [{"added": ["refund", "vip"], "removed": []},
                       {"added": [], "removed": ["refund"]}]
    html = page(client, case)
    assert "alice tagged the case refund, vip" in html
    assert '<input type="hidden" name="remove" value="vip">' in html


@pytest.mark.parametrize("tag", ["bad!", "x" * 41, "two.words", "<b>"])
def test_a_bad_tag_is_refused_and_nothing_changes(client, case, agent, tag):
    client.force_login(agent)
    response = client.post(reverse("web:tags", args=[case.pk]), {"add": f"ok {tag}"})
    assert any("is not a tag: use 1 to 40 letters, digits, - or _." in m
               for m in messages_of(response))
    case.refresh_from_db()
    assert case.tags == []


def test_a_case_has_at_most_twenty_tags(client, case, agent):
    Case.objects.filter(pk=case.pk).update(tags=[f"t{i}" for i in range(20)])
    client.force_login(agent)
    response = client.post(reverse("web:tags", args=[case.pk]), {"add": "one-more"})
    assert "A case has at most 20 tags." in messages_of(response)
    case.refresh_from_db()
    assert len(case.tags) == 20


def test_an_agent_gets_assign_to_me_but_no_assignee_select(client, case, teammate):
    client.force_login(teammate)
    html = page(client, case)
    assert reverse("web:assign_to_me", args=[case.pk]) in html
    assert 'name="assignee"' not in html
    client.post(reverse("web:assign", args=[case.pk]), {"assignee": teammate.pk})
    case.refresh_from_db()
    assert case.assignee == teammate  # to themselves: allowed


def test_an_agent_cannot_assign_a_case_to_someone_else(client, case, agent, teammate, teams):
    carl = make_user("carl", teams=[teams["care"]])
    client.force_login(teammate)
    for assignee in (carl.pk, ""):
        response = client.post(reverse("web:assign", args=[case.pk]), {"assignee": assignee})
        assert any("Only a supervisor of the case's team or an admin" in m
                   for m in messages_of(response))
    case.refresh_from_db()
    assert case.assignee == agent
    assert not Event.objects.filter(verb="case.assigned").exists()


def test_a_supervisor_assigns_to_an_active_member_of_the_team(client, case, supervisor,
                                                               teammate, outsider):
    client.force_login(supervisor)
    html = page(client, case)
    assert f'<option value="{teammate.pk}">bob</option>' in html
    assert f'<option value="{outsider.pk}">' not in html
    client.post(reverse("web:assign", args=[case.pk]), {"assignee": teammate.pk})
    case.refresh_from_db()
    assert case.assignee == teammate
    assert "sam assigned the case to bob (it was alice&#x27;s)" in page(client, case)

    response = client.post(reverse("web:assign", args=[case.pk]), {"assignee": outsider.pk})
    assert "Choose an active member of the case&#x27;s team." in \
        client.get(response.url).content.decode()
    teammate.is_active = False
    teammate.save()
    client.post(reverse("web:assign", args=[case.pk]), {"assignee": ""})
    case.refresh_from_db()
    assert case.assignee is None


def test_the_select_shows_an_assignee_from_outside_the_team_and_keeping_it_changes_nothing(
        client, teams, supervisor):
    lawyer = make_user("lee", teams=[teams["legal"]])
    case = make_case(teams["care"], assignee=lawyer)
    client.force_login(supervisor)
    assert f'<option value="{lawyer.pk}" selected>lee</option>' in page(client, case)
    client.post(reverse("web:assign", args=[case.pk]), {"assignee": lawyer.pk})
    case.refresh_from_db()
    assert case.assignee == lawyer
    assert not Event.objects.filter(verb="case.assigned").exists()


def test_an_outsider_reaches_none_of_the_composer_routes(client, case, outsider, agent):
    saved = SavedReply.objects.create(name="Any", text="Hello {first_name}")
    client.force_login(outsider)
    for name, data in (("check_reply", {"text": SORRY, "visibility": "public"}),
                       ("check_acknowledge", {}), ("priority", {"priority": "P0"}),
                       ("tags", {"add": "spam"}), ("assign", {"assignee": outsider.pk})):
        assert client.post(reverse(f"web:{name}", args=[case.pk]), data).status_code == 404, name
    assert client.get(reverse("web:saved_reply_text",
                              args=[case.pk, saved.pk])).status_code == 404
    case.refresh_from_db()
    assert (case.priority, case.tags, case.assignee) == ("P2", [], agent)


# -- the API ---------------------------------------------------------------------------------


def auth(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {do_create_api_token(user, 'tests')[1]}"}


def api_post(client, url, body, user):
    return client.post(url, body, content_type="application/json", **auth(user))


def test_the_api_sets_priority_and_tags(client, case, agent):
    response = api_post(client, f"/api/v1/cases/{case.pk}/priority", {"priority": "P1"}, agent)
    assert response.status_code == 200
    assert response.json()["priority"] == "P1"
    response = api_post(client, f"/api/v1/cases/{case.pk}/tags", {"add": ["Refund", "vip"]},
                        agent)
    assert response.json() == {"tags": ["refund", "vip"]}
    response = api_post(client, f"/api/v1/cases/{case.pk}/tags",
                        {"add": ["late"], "remove": ["vip"]}, agent)
    assert response.json() == {"tags": ["refund", "late"]}
    response = api_post(client, f"/api/v1/cases/{case.pk}/tags", {"tags": ["only"]}, agent)
    assert response.json() == {"tags": ["only"]}
    assert client.get(f"/api/v1/cases/{case.pk}", **auth(agent)).json()["tags"] == ["only"]


def test_the_api_shows_the_follow_up_a_reply_keeps(client, case, agent):
    response = api_post(client, f"/api/v1/cases/{case.pk}/replies", {
        "text": SORRY, "visibility": "public",
        "follow_up": {"action": "DM us", "within_hours": 1.5, "on_expiry": "reopen"}}, agent)
    assert response.status_code == 201
    assert response.json()["follow_up"] == {"action": "DM us", "hours": 1.5,
                                            "on_expiry": "reopen"}


def test_the_api_refuses_bad_priorities_and_tags_with_a_message(client, case, agent, outsider):
    url = f"/api/v1/cases/{case.pk}"
    assert api_post(client, f"{url}/priority", {"priority": "P7"}, agent).status_code == 422
    response = api_post(client, f"{url}/tags", {"add": ["no spaces"]}, agent)
    assert response.status_code == 422
    assert "is not a tag" in response.json()["detail"]
    response = api_post(client, f"{url}/tags", {"tags": ["a"], "add": ["b"]}, agent)
    assert response.status_code == 422
    assert api_post(client, f"{url}/priority", {"priority": "P0"}, outsider).status_code == 404
    assert api_post(client, f"{url}/tags", {"add": ["x"]}, outsider).status_code == 404
    case.refresh_from_db()
    assert (case.priority, case.tags) == ("P2", [])


def test_a_supervisor_of_a_parent_team_assigns_in_its_sub_team(client, teams, teammate):
    boss = make_user("maya", role="supervisor")
    teams["care"].parent = teams["pr"]
    teams["care"].save()
    teams["pr"].supervisor = boss
    teams["pr"].save()
    case = make_case(teams["care"])
    client.force_login(boss)
    client.post(reverse("web:assign", args=[case.pk]), {"assignee": teammate.pk})
    case.refresh_from_db()
    assert case.assignee == teammate
