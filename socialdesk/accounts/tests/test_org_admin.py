"""The Django admin edits the org chart row by row and refuses what the import refuses:
calendars the SLA clocks could not use, routing conditions the engine could not read,
SLA policies with unknown priorities or actions, agents' tags that would never match."""

import html
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from socialdesk.accounts.models import BusinessCalendar, Team, User
from socialdesk.cases.models import SlaPolicy
from socialdesk.routing.models import RoutingRule


@pytest.fixture
def admin_client(client, django_user_model, teams):
    root = django_user_model.objects.create_superuser(
        username="root", email="root@example.com", password="a long test password 1",
        role=User.Role.ADMIN)
    client.force_login(root)
    return client


def page(response) -> str:
    return html.unescape(response.content.decode())


# -- calendars ---------------------------------------------------------------------------------


def calendar_form(**fields) -> dict:
    return {"slug": "uk-office", "name": "UK office", "timezone": "Europe/London",
            "hours": '{"mon": ["09:00-17:30"], "tue": ["09:00-17:30"]}',
            "holidays": '["2026-12-25"]', **fields}


def test_a_calendar_with_good_hours_is_saved(admin_client):
    response = admin_client.post(reverse("admin:accounts_businesscalendar_add"), calendar_form())
    assert response.status_code == 302
    calendar = BusinessCalendar.objects.get()
    assert calendar.hours == {"mon": ["09:00-17:30"], "tue": ["09:00-17:30"]}
    monday_ten, sunday_ten = (datetime(2026, 11, d, 10, tzinfo=UTC) for d in (16, 15))
    assert calendar.calendar().is_open(monday_ten) and not calendar.calendar().is_open(sunday_ten)


def test_a_calendar_left_without_hours_is_open_around_the_clock(admin_client):
    response = admin_client.post(reverse("admin:accounts_businesscalendar_add"),
                                 calendar_form(hours="", holidays="[]"))
    assert response.status_code == 302
    assert BusinessCalendar.objects.get().hours is None


@pytest.mark.parametrize("fields, message", [
    ({"hours": '{"mon": ["09:00-25:00"]}'}, "hours.mon[0]: '09:00-25:00' is not a valid time"),
    ({"hours": '{"monday": ["09:00-17:00"]}'}, "hours: unknown day 'monday'"),
    ({"timezone": "Europe/Londres"}, "timezone: unknown time zone 'Europe/Londres'"),
    ({"holidays": '["25/12/2026"]'}, "holidays[0]: '25/12/2026' is not a date"),
])
def test_a_calendar_the_clocks_could_not_use_is_refused(admin_client, fields, message):
    response = admin_client.post(reverse("admin:accounts_businesscalendar_add"),
                                 calendar_form(**fields))
    assert response.status_code == 200 and message in page(response)
    assert not BusinessCalendar.objects.exists()


# -- teams -------------------------------------------------------------------------------------


def team_form(team: Team, **fields) -> dict:
    return {"name": team.name, "slug": team.slug, "parent": "", "supervisor": "",
            "calendar": "", "strategy": team.strategy, "reassign_after_minutes": "", **fields}


def test_the_team_list_shows_the_org_chart_columns_and_member_counts(admin_client, agent):
    response = admin_client.get(reverse("admin:accounts_team_changelist"))
    text = page(response)
    assert response.status_code == 200
    for column in ("Parent", "Supervisor", "Strategy", "Calendar", "Reassign after minutes",
                   "Members"):
        assert column in text


def test_a_team_can_be_given_a_parent_and_a_strategy(admin_client, teams, supervisor):
    care, tier1 = teams["care"], Team.objects.create(slug="care-tier-1", name="Care Tier 1")
    response = admin_client.post(
        reverse("admin:accounts_team_change", args=[tier1.pk]),
        team_form(tier1, parent=care.pk, supervisor=supervisor.pk, strategy="round_robin",
                  reassign_after_minutes="20"))
    assert response.status_code == 302
    tier1.refresh_from_db()
    assert (tier1.parent, tier1.supervisor, tier1.strategy, tier1.reassign_after_minutes) == (
        care, supervisor, "round_robin", 20)


def test_a_team_cannot_be_put_under_its_own_sub_team(admin_client, teams):
    care = teams["care"]
    tier1 = Team.objects.create(slug="care-tier-1", name="Care Tier 1", parent=care)
    response = admin_client.post(reverse("admin:accounts_team_change", args=[care.pk]),
                                 team_form(care, parent=tier1.pk))
    assert response.status_code == 200
    assert "the parent chain would go round in a circle" in page(response)
    care.refresh_from_db()
    assert care.parent is None


# -- users -------------------------------------------------------------------------------------


def user_form(user: User, **fields) -> dict:
    return {"username": user.username, "first_name": "", "last_name": "", "email": "",
            "is_active": "on", "date_joined_0": "2026-11-01", "date_joined_1": "09:00:00",
            "role": user.role, "teams": [t.pk for t in user.teams.all()],
            "capacity": "8", "availability": "online", "skills": '["billing"]',
            "languages": '["en", "pt-br"]', "channels": "[]", "working_hours": "", **fields}


def test_the_user_form_has_the_desk_fields(admin_client, agent):
    response = admin_client.get(reverse("admin:accounts_user_change", args=[agent.pk]))
    text = page(response)
    for name in ("skills", "languages", "channels", "working_hours"):
        assert f'name="{name}"' in text


def test_an_agents_skills_languages_and_working_hours_are_saved(admin_client, agent):
    calendar = BusinessCalendar.objects.create(slug="uk", name="UK", hours=None)
    response = admin_client.post(reverse("admin:accounts_user_change", args=[agent.pk]),
                                 user_form(agent, working_hours=calendar.pk,
                                           channels='["x", "email"]'))
    assert response.status_code == 302, page(response)
    agent.refresh_from_db()
    assert (agent.skills, agent.languages, agent.channels, agent.working_hours) == (
        ["billing"], ["en", "pt-br"], ["x", "email"], calendar)


@pytest.mark.parametrize("fields, message", [
    ({"skills": '["Billing"]'}, "skills[0] 'Billing' is not a short lower-case word"),
    ({"skills": '"billing"'}, "skills must be a list"),
    ({"languages": '["English"]'}, "languages[0] 'English' is not a lower-case language code"),
    ({"channels": '["x", 3]'}, "channels[1] must be text, not 3"),
    ({"channels": '["x", "x"]'}, "channels lists a value twice"),
])
def test_an_agents_tags_must_be_short_lower_case_words(admin_client, agent, fields, message):
    response = admin_client.post(reverse("admin:accounts_user_change", args=[agent.pk]),
                                 user_form(agent, **fields))
    assert response.status_code == 200 and message in page(response)
    agent.refresh_from_db()
    assert agent.skills == []


# -- routing rules -----------------------------------------------------------------------------


def rule_form(**fields) -> dict:
    return {"position": "10", "name": "legal-threats", "when": '{"cues": ["legal"]}',
            "team": "legal", "enabled": "on", **fields}


def test_a_good_routing_rule_is_saved(admin_client):
    response = admin_client.post(reverse("admin:routing_routingrule_add"), rule_form())
    assert response.status_code == 302
    rule = RoutingRule.objects.get()
    assert (rule.name, rule.when, rule.team) == ("legal-threats", {"cues": ["legal"]}, "legal")


def test_a_rule_may_send_posts_to_the_account_owner(admin_client):
    response = admin_client.post(reverse("admin:routing_routingrule_add"), rule_form(
        name="vips", when='{"tier": ["vip"]}', team="account_owner"))
    assert response.status_code == 302
    assert RoutingRule.objects.get().team == "account_owner"


@pytest.mark.parametrize("fields, message", [
    ({"when": '{"cue": ["legal"]}'}, "rule 'legal-threats': unknown condition 'cue' in when"),
    ({"when": '{"cues": ["lawyer"]}'}, "when.cues: unknown value 'lawyer'"),
    ({"when": '{"severity_at_least": 9}'}, "when.severity_at_least: must be a whole number "
                                          "from 1 to 3, not 9"),
    ({"when": '["legal"]'}, "'when' must be a mapping, not list"),
    ({"team": "lawyers"}, "'lawyers' is not a team; give a team slug or account_owner"),
])
def test_a_routing_rule_the_engine_could_not_read_is_refused(admin_client, fields, message):
    response = admin_client.post(reverse("admin:routing_routingrule_add"), rule_form(**fields))
    assert response.status_code == 200 and message in page(response)
    assert not RoutingRule.objects.exists()


# -- SLA policies ------------------------------------------------------------------------------


def sla_form(**fields) -> dict:
    return {"position": "10", "name": "urgent", "priorities": '["P0", "P1"]',
            "channels": "[]", "teams": '["care"]', "first_response_minutes": "30",
            "next_response_minutes": "60", "resolution_minutes": "480",
            "warn_at_percent": "75", "breach_actions": '["notify_supervisor", "escalate"]',
            "enabled": "on", **fields}


def test_a_good_sla_policy_is_saved(admin_client):
    response = admin_client.post(reverse("admin:cases_slapolicy_add"), sla_form())
    assert response.status_code == 302, page(response)
    policy = SlaPolicy.objects.get()
    assert (policy.priorities, policy.teams, policy.first_response_minutes,
            policy.breach_actions) == (["P0", "P1"], ["care"], 30,
                                       ["notify_supervisor", "escalate"])


def test_an_sla_policy_needs_only_one_target(admin_client):
    response = admin_client.post(reverse("admin:cases_slapolicy_add"), sla_form(
        first_response_minutes="", next_response_minutes="", priorities="[]", teams="[]"))
    assert response.status_code == 302
    assert SlaPolicy.objects.get().resolution_minutes == 480


@pytest.mark.parametrize("fields, message", [
    ({"priorities": '["P5"]'}, "unknown value 'P5' (allowed: P0 to P4)"),
    ({"priorities": '"P1"'}, "must be a list of text values"),
    ({"breach_actions": '["page_ceo"]'}, "unknown value 'page_ceo' (allowed: raise_priority, "
                                         "notify_supervisor, reassign, escalate)"),
    ({"channels": '["X"]'}, "'X' is not a lower-case channel name"),
    ({"teams": '["carre"]'}, "'carre' is not a team"),
    ({"warn_at_percent": "0"}, "must be a whole number from 1 to 99, not 0"),
    ({"warn_at_percent": "100"}, "must be a whole number from 1 to 99, not 100"),
    ({"first_response_minutes": "", "next_response_minutes": "", "resolution_minutes": ""},
     "needs at least one target: first response, next response or resolution"),
])
def test_an_sla_policy_with_bad_fields_is_refused(admin_client, fields, message):
    response = admin_client.post(reverse("admin:cases_slapolicy_add"), sla_form(**fields))
    assert response.status_code == 200 and message in page(response)
    assert not SlaPolicy.objects.exists()
