"""Saved replies: variables filled from the case, refused when unknown, offered by
channel, language and team, managed by supervisors for their teams (on the
saved-replies page) and by admins."""

import pytest
from django.urls import reverse

from conftest import make_user
from socialdesk.accounts.actions import do_create_api_token
from socialdesk.accounts.models import User
from socialdesk.audit.models import Event
from socialdesk.cases.actions import ActionError, NotPermitted
from socialdesk.cases.admin import SavedReplyForm
from socialdesk.cases.models import SavedReply
from socialdesk.cases.saved_replies import (
    check_text,
    do_delete_saved_reply,
    do_save_saved_reply,
    render_saved_reply,
    saved_replies_for,
)
from socialdesk.cases.tests.cases_helpers import make_case

GREETING = "Hi {first_name}, {agent_name} here about {case_ref}."


@pytest.fixture
def case(teams, agent):
    case = make_case(teams["care"], assignee=agent)
    case.lang = "en"
    case.save(update_fields=["lang"])
    return case


def saved(text=GREETING, name="greeting", **fields) -> SavedReply:
    return SavedReply.objects.create(name=name, text=text, **fields)


def names(rows) -> list[str]:
    return [row.name for row in rows]


# -- filling in ---------------------------------------------------------------------


def test_it_fills_the_first_name_the_agent_name_and_the_case_ref(case, agent):
    case.contact.name = "Carol Smith"
    case.contact.save()
    agent.first_name = "Alice"
    assert render_saved_reply(saved(), case, agent) == \
        f"Hi Carol, Alice here about {case.ref}."


def test_the_first_name_falls_back_to_the_name_on_the_channel_then_the_handle(case, agent):
    case.contact.name = ""
    case.contact.save()
    identity = case.contact.identities.get()
    identity.name = "Dana Lee"
    identity.save()
    assert render_saved_reply(saved("Hi {first_name}"), case, agent) == "Hi Dana"
    identity.name = ""
    identity.save()
    assert render_saved_reply(saved("Hi {first_name}"), case, agent) == "Hi @carol"


def test_the_agent_name_falls_back_to_the_username(case, agent):
    assert render_saved_reply(saved("{agent_name}"), case, agent) == "alice"


def test_doubled_braces_are_literal_braces(case, agent):
    assert render_saved_reply(saved("{{not a variable}} {case_ref}"), case, agent) == \
        f"{{not a variable}} {case.ref}"


@pytest.mark.parametrize("text, shown", [
    ("Hi {frist_name}", "{frist_name}"),
    ("Hi {first_name.upper}", "{first_name.upper}"),
    ("Hi {first_name!r}", "{first_name!r}"),
    ("Hi {first_name:>20}", "{first_name:>20}"),
    ("Hi {0}", "{0}"),
    ("Hi {}", "{}"),
])
def test_an_unknown_variable_is_refused_with_its_name(text, shown):
    with pytest.raises(ActionError) as refused:
        check_text(text)
    assert shown in str(refused.value)
    assert "{first_name}, {agent_name}, {case_ref}" in str(refused.value)


@pytest.mark.parametrize("text", ["Hi {first_name", "Hi first_name}", "   "])
def test_unclosed_braces_and_empty_texts_are_refused(text):
    with pytest.raises(ActionError):
        check_text(text)


def test_a_stored_text_with_an_unknown_variable_is_never_filled_in_raw(case, agent):
    broken = saved("Hi {nickname}")  # stored around the checks, e.g. by a data import
    with pytest.raises(ActionError, match="nickname"):
        render_saved_reply(broken, case, agent)


# -- which ones a case offers ----------------------------------------------------------


def test_a_case_offers_matching_replies_the_most_specific_first(case, agent, teams):
    saved(name="any")
    saved(name="x only", channel="x")
    saved(name="english", lang="en")
    saved(name="care on x", channel="x", team=teams["care"])
    saved(name="care", team=teams["care"])
    assert names(saved_replies_for(case, agent)) == [
        "care on x", "care", "x only", "english", "any"]


def test_other_channels_languages_teams_and_inactive_replies_are_not_offered(
        case, agent, teams):
    saved(name="facebook", channel="facebook")
    saved(name="portuguese", lang="pt")
    saved(name="comms", team=teams["comms"])
    saved(name="retired", is_active=False)
    saved(name="british english", lang="en-GB")
    saved(name="offered")
    assert names(saved_replies_for(case, agent)) == ["offered"]


def test_a_language_variant_of_the_case_matches_its_language(case, agent):
    case.lang = "en-gb"
    saved(name="english", lang="en")
    assert names(saved_replies_for(case, agent)) == ["english"]


def test_the_users_own_teams_replies_are_offered_on_a_case_they_may_open(
        case, teams, agent):
    agent.teams.add(teams["pr"])
    saved(name="pr", team=teams["pr"])
    assert names(saved_replies_for(case, agent)) == ["pr"]


# -- who manages them ---------------------------------------------------------------


def test_a_supervisor_saves_a_reply_for_their_team_with_an_audit_event(teams, supervisor):
    row = do_save_saved_reply(SavedReply(name=" Sorry ", text=GREETING, channel="X",
                                         team=teams["care"]), supervisor)
    assert (row.name, row.channel, row.created_by) == ("Sorry", "x", supervisor)
    event = Event.objects.get(verb="saved_reply.created")
    assert (event.actor, event.data["saved_reply"], event.data["team"]) == (
        supervisor, row.pk, "care")


def test_a_supervisor_cannot_keep_replies_for_another_team_or_every_team(teams, supervisor):
    for team in (teams["comms"], None):
        with pytest.raises(NotPermitted):
            do_save_saved_reply(SavedReply(name="x", text="Hello", team=team), supervisor)
    assert not SavedReply.objects.exists()


def test_an_agent_cannot_manage_saved_replies(teams, agent):
    with pytest.raises(NotPermitted):
        do_save_saved_reply(SavedReply(name="x", text="Hello", team=teams["care"]), agent)
    row = saved(team=teams["care"])
    with pytest.raises(NotPermitted):
        do_delete_saved_reply(row, agent)
    assert SavedReply.objects.filter(pk=row.pk).exists()


def test_an_unknown_variable_is_refused_on_every_create_path(teams, admin_user):
    with pytest.raises(ActionError, match="frist_name"):
        do_save_saved_reply(SavedReply(name="typo", text="Hi {frist_name}"), admin_user)
    form = SavedReplyForm({"name": "typo", "text": "Hi {frist_name}", "is_active": "on"})
    assert not form.is_valid()
    assert "{frist_name} is not a variable" in form.errors["text"][0]
    assert not SavedReply.objects.exists()


def test_an_admin_deletes_any_saved_reply_and_the_event_keeps_its_text(teams, admin_user):
    row = saved(team=teams["comms"])
    do_delete_saved_reply(row, admin_user)
    assert not SavedReply.objects.exists()
    assert Event.objects.get(verb="saved_reply.deleted").data["text"] == GREETING


# -- the Django admin -------------------------------------------------------------------


def test_the_admin_refuses_an_unknown_variable_and_saves_a_good_reply(client, admin_user, teams):
    client.force_login(admin_user)
    url = reverse("admin:cases_savedreply_add")
    data = {"name": "welcome", "text": "Hi {firstname}", "channel": "", "lang": "",
            "team": "", "is_active": "on"}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "{firstname} is not a variable the desk knows" in response.content.decode()
    assert not SavedReply.objects.exists()
    response = client.post(url, {**data, "text": "Hi {first_name}"})
    assert response.status_code == 302
    row = SavedReply.objects.get()
    assert (row.text, row.created_by) == ("Hi {first_name}", admin_user)
    assert Event.objects.filter(verb="saved_reply.created", actor=admin_user).exists()


def test_only_admins_manage_saved_replies_in_the_django_admin(client, teams):
    staff = make_user("stan", role=User.Role.SUPERVISOR, teams=[teams["care"]])
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    assert client.get(reverse("admin:cases_savedreply_add")).status_code == 403


# -- the API ------------------------------------------------------------------------------


def auth(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {do_create_api_token(user, 'tests')[1]}"}


def test_the_api_lists_a_cases_saved_replies_and_fills_one_in(client, case, agent, teams):
    row = saved(team=teams["care"])
    saved(name="comms", team=teams["comms"])
    headers = auth(agent)
    listed = client.get(f"/api/v1/cases/{case.pk}/saved-replies", **headers).json()
    assert listed == [{"id": row.pk, "name": "greeting", "channel": "", "lang": "",
                       "team": "care"}]
    response = client.get(f"/api/v1/cases/{case.pk}/saved-replies/{row.pk}", **headers)
    assert response.status_code == 200
    assert response.json()["text"] == f"Hi Carol, alice here about {case.ref}."


def test_the_api_answers_404_for_a_reply_the_case_does_not_offer_and_422_for_a_broken_one(
        client, case, agent, teams, outsider):
    other = saved(name="comms", team=teams["comms"])
    broken = saved("Hi {nickname}", name="broken")
    headers = auth(agent)
    assert client.get(f"/api/v1/cases/{case.pk}/saved-replies/{other.pk}",
                      **headers).status_code == 404
    response = client.get(f"/api/v1/cases/{case.pk}/saved-replies/{broken.pk}", **headers)
    assert response.status_code == 422
    assert "nickname" in response.json()["detail"]
    assert client.get(f"/api/v1/cases/{case.pk}/saved-replies",
                      **auth(outsider)).status_code == 404


# -- the saved-replies page -------------------------------------------------------------------


def test_a_supervisor_keeps_their_teams_saved_replies(client, teams, supervisor):
    SavedReply.objects.create(name="Comms hello", text="x", team=teams["comms"])
    client.force_login(supervisor)
    response = client.get(reverse("web:saved_replies"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Comms hello" not in html
    assert f'<option value="{teams["care"].pk}">Care</option>' in html
    assert f'<option value="{teams["comms"].pk}">' not in html

    response = client.post(reverse("web:saved_replies"), {
        "name": "Sorry + DM", "text": "Hi {first_name}, sorry! DM us.", "channel": "x",
        "lang": "", "team": teams["care"].pk, "is_active": "on"})
    assert response.status_code == 302
    saved = SavedReply.objects.get(name="Sorry + DM")
    assert (saved.team, saved.created_by, saved.is_active) == (teams["care"], supervisor, True)


def test_the_page_refuses_an_unknown_variable_and_keeps_what_was_typed(client, teams, supervisor):
    client.force_login(supervisor)
    response = client.post(reverse("web:saved_replies"), {
        "name": "Typo", "text": "Hi {frist_name}", "channel": "", "lang": "",
        "team": teams["care"].pk})
    assert response.status_code == 422
    html = response.content.decode()
    assert "{frist_name} is not a variable the desk knows" in html
    assert "Hi {frist_name}</textarea>" in html
    assert not SavedReply.objects.exists()


def test_a_supervisor_cannot_file_a_reply_under_another_team(client, teams, supervisor):
    client.force_login(supervisor)
    for team in (teams["comms"].pk, ""):
        response = client.post(reverse("web:saved_replies"), {
            "name": "Elsewhere", "text": "Hello", "team": team})
        assert response.status_code == 422
    assert not SavedReply.objects.exists()


def test_a_supervisor_edits_and_deletes_their_teams_reply_but_not_others(
        client, teams, supervisor):
    mine = SavedReply.objects.create(name="Mine", text="Hello", team=teams["care"])
    theirs = SavedReply.objects.create(name="Theirs", text="Hello", team=teams["comms"])
    client.force_login(supervisor)
    assert client.get(reverse("web:saved_reply", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("web:saved_reply_delete", args=[theirs.pk])).status_code == 404
    response = client.post(reverse("web:saved_reply", args=[mine.pk]), {
        "name": "Mine", "text": "Hello {first_name}", "team": teams["care"].pk})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert (mine.text, mine.is_active) == ("Hello {first_name}", False)
    client.post(reverse("web:saved_reply_delete", args=[mine.pk]))
    assert list(SavedReply.objects.values_list("name", flat=True)) == ["Theirs"]
    assert [e.verb for e in Event.objects.order_by("id")] == [
        "saved_reply.changed", "saved_reply.deleted"]


def test_an_admin_keeps_replies_for_every_team(client, admin_user, teams):
    client.force_login(admin_user)
    response = client.post(reverse("web:saved_replies"), {
        "name": "Everyone", "text": "Hello", "team": "", "is_active": "on"})
    assert response.status_code == 302
    assert SavedReply.objects.get().team is None


def test_agents_are_told_the_page_is_for_supervisors(client, agent, teams):
    saved = SavedReply.objects.create(name="Care", text="Hello", team=teams["care"])
    client.force_login(agent)
    response = client.get(reverse("web:saved_replies"))
    assert response.status_code == 403
    assert "Only supervisors and admins manage saved replies" in response.content.decode()
    assert client.post(reverse("web:saved_reply_delete", args=[saved.pk])).status_code == 403
    assert SavedReply.objects.exists()


def test_the_page_needs_a_login(client):
    response = client.get(reverse("web:saved_replies"))
    assert response.status_code == 302 and response.url.startswith(reverse("web:login"))
