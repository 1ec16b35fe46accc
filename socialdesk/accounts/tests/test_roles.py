"""Who sees which teams and cases: agents their own teams, supervisors the teams they
belong to or supervise and everything below them, admins all; and everything that
leans on that rule (approvals, alerts, reports, the API, reassignment)."""

import pytest
from django.urls import reverse

from conftest import make_user
from socialdesk.accounts.actions import do_create_api_token
from socialdesk.accounts.models import Team, User
from socialdesk.analytics.metrics import channel_report
from socialdesk.cases import actions
from socialdesk.cases.queries import (
    approvers,
    awaiting_approval_by,
    cases_visible_to,
    teams_visible_to,
)
from socialdesk.cases.tests.cases_helpers import make_case
from socialdesk.routing.assign import alert_chain


@pytest.fixture(autouse=True)
def quick_hashes(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org(teams, agent, supervisor):
    """care ← tier-1 ← night (sub-teams), and comms beside them, each with people."""
    care = teams["care"]
    tier1 = Team.objects.create(slug="tier-1", name="Tier 1", parent=care)
    night = Team.objects.create(slug="night", name="Night", parent=tier1)
    care.supervisor = supervisor
    care.save()
    return {
        "care": care, "tier1": tier1, "night": night, "comms": teams["comms"],
        "legal": teams["legal"],
        "comms_boss": make_user("sue", role=User.Role.SUPERVISOR, teams=[teams["comms"]]),
        "tier1_agent": make_user("tia", teams=[tier1]),
        "night_agent": make_user("nik", teams=[night]),
        "lawyer": make_user("lee", teams=[teams["legal"]]),
    }


def slugs(teams) -> set[str]:
    return set(teams.values_list("slug", flat=True))


def visible(user, *cases) -> list[bool]:
    ids = set(cases_visible_to(user).values_list("id", flat=True))
    return [case.pk in ids for case in cases]


def test_an_agent_sees_their_own_teams_only(org, agent):
    assert slugs(teams_visible_to(agent)) == {"care"}
    care, tier1 = make_case(org["care"]), make_case(org["tier1"], handle="dan")
    assert visible(agent, care, tier1) == [True, False]


def test_a_supervisor_sees_their_teams_and_every_team_below(org, supervisor):
    assert slugs(teams_visible_to(supervisor)) == {"care", "tier-1", "night"}
    cases = [make_case(org[t], handle=t) for t in ("care", "tier1", "night", "comms")]
    assert visible(supervisor, *cases) == [True, True, True, False]


def test_a_supervisor_of_another_team_sees_none_of_cares(org):
    boss = org["comms_boss"]
    assert slugs(teams_visible_to(boss)) == {"comms"}
    assert visible(boss, make_case(org["care"]), make_case(org["night"], handle="n")) == \
        [False, False]


def test_being_named_a_teams_supervisor_reaches_below_it_whatever_the_role(org):
    # An agent named tier-1's supervisor is in its escalation chain: they must be
    # able to open what they are alerted to and asked to approve.
    lead = org["tier1_agent"]
    org["tier1"].supervisor = lead
    org["tier1"].save()
    assert slugs(teams_visible_to(lead)) == {"tier-1", "night"}


def test_a_supervisor_role_alone_does_not_reach_a_parent_team(org):
    deputy = make_user("dee", role=User.Role.SUPERVISOR, teams=[org["tier1"]])
    assert slugs(teams_visible_to(deputy)) == {"tier-1", "night"}


def test_admins_see_every_team_and_case(org, admin_user):
    admin_role_only = make_user("root", role=User.Role.ADMIN)
    for user in (admin_user, admin_role_only):
        assert slugs(teams_visible_to(user)) == set(Team.objects.values_list("slug", flat=True))
        assert visible(user, make_case(org["comms"], handle=user.username)) == [True]


def test_only_staff_reach_the_admin_site_whatever_the_role(client, org):
    root = make_user("root", role=User.Role.ADMIN)
    for user in (root, org["comms_boss"]):
        client.force_login(user)
        response = client.get(reverse("admin:index"))
        assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    root.is_staff = True
    root.save()
    client.force_login(root)
    assert client.get(reverse("admin:index")).status_code == 200


def test_cases_assigned_to_someone_or_awaiting_their_teams_approval_are_theirs_to_see(
        org, outsider):
    assigned = make_case(org["care"], assignee=outsider)
    for_legal = make_case(org["care"], approval_by="legal", handle="lx")
    assert visible(outsider, assigned, for_legal) == [True, False]
    assert visible(org["lawyer"], assigned, for_legal) == [False, True]
    org["legal"].supervisor = org["comms_boss"]
    org["legal"].save()
    assert visible(org["comms_boss"], for_legal) == [True]


def test_a_parent_loop_made_outside_the_admin_ends(org, supervisor):
    Team.objects.filter(pk=org["care"].pk).update(parent=org["night"])
    assert slugs(teams_visible_to(supervisor)) == {"care", "tier-1", "night"}


def test_everyone_asked_to_approve_or_alerted_can_open_the_case(org, supervisor):
    tier1_lead = make_user("tl", role=User.Role.SUPERVISOR)
    org["tier1"].supervisor = tier1_lead
    org["tier1"].save()
    case = make_case(org["night"], approval_by="supervisor")
    people = approvers(case) + alert_chain(case.team)
    assert {u.username for u in people} == {"tl", "sam"}
    for person in people:
        assert visible(person, case) == [True], person
    legal_case = make_case(org["comms"], approval_by="legal", handle="lc")
    for person in approvers(legal_case):
        assert visible(person, legal_case) == [True], person


def test_the_approvals_list_holds_only_cases_the_approver_can_open(org, supervisor,
                                                                   agent):
    mine = make_case(org["tier1"], approval_by="supervisor")
    theirs = make_case(org["comms"], approval_by="supervisor", handle="x2")
    org["comms"].supervisor = org["comms_boss"]
    org["comms"].save()
    SORRY = "Sorry to hear that, we've sent you a DM."
    actions.do_submit_reply(mine, org["tier1_agent"], SORRY, "public")
    actions.do_submit_reply(theirs, make_user("cx", teams=[org["comms"]]), SORRY, "public")
    assert [r.case_id for r in awaiting_approval_by(supervisor)] == [mine.pk]
    assert [r.case_id for r in awaiting_approval_by(org["comms_boss"])] == [theirs.pk]
    assert awaiting_approval_by(agent) == []


def test_reports_count_only_the_cases_the_reader_may_see(org, supervisor, agent, admin_user):
    make_case(org["care"], channel="x")
    make_case(org["night"], channel="facebook", handle="fb")
    make_case(org["comms"], channel="mastodon", handle="ma")
    assert {r.channel for r in channel_report(user=agent)} == {"x"}
    assert {r.channel for r in channel_report(user=supervisor)} == {"x", "facebook"}
    assert {r.channel for r in channel_report(user=org["comms_boss"])} == {"mastodon"}
    everything = {"x", "facebook", "mastodon"}
    assert {r.channel for r in channel_report(user=admin_user)} == everything
    assert {r.channel for r in channel_report()} == everything


def test_the_api_lists_a_supervisors_teams_and_nothing_else(client, org, supervisor):
    cases = {t: make_case(org[t], handle=t) for t in ("care", "night", "comms")}
    token = do_create_api_token(supervisor, "t")[1]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    listed = {c["id"] for c in client.get("/api/v1/cases", **auth).json()}
    assert listed == {cases["care"].pk, cases["night"].pk}
    assert client.get(f"/api/v1/cases/{cases['comms'].pk}", **auth).status_code == 404
    assert client.get("/api/v1/cases?team=comms", **auth).json() == []


# Reassignment: supervisors of the case's team and admins hand a case to an active
# member of its team; agents only take a case themselves.

def test_an_agent_may_take_a_case_but_not_hand_it_to_a_teammate(org, agent, teammate):
    case = make_case(org["care"])
    actions.check_assign(case, agent, agent)
    case.refresh_from_db()
    assert case.assignee == agent
    for other in (teammate, None):  # a teammate, or back to the team's queue
        with pytest.raises(actions.NotPermitted):
            actions.check_assign(case, other, agent)
        case.refresh_from_db()
        assert case.assignee == agent


def test_a_supervisor_reassigns_within_the_cases_team_below_them(org, supervisor):
    case = make_case(org["night"])
    actions.check_assign(case, org["night_agent"], supervisor)
    case.refresh_from_db()
    assert case.assignee == org["night_agent"]
    with pytest.raises(actions.ActionError, match="not an active member of Night"):
        actions.check_assign(case, org["tier1_agent"], supervisor)
    org["night_agent"].is_active = False
    org["night_agent"].save()
    with pytest.raises(actions.ActionError, match="not an active member"):
        actions.check_assign(make_case(org["night"], handle="n2"), org["night_agent"],
                             supervisor)


def test_a_supervisor_of_another_team_may_not_reassign(org, outsider):
    case = make_case(org["comms"])
    with pytest.raises(actions.NotPermitted):
        actions.check_assign(make_case(org["care"], handle="c2"), org["tier1_agent"],
                             org["comms_boss"])
    actions.check_assign(case, outsider, org["comms_boss"])
    case.refresh_from_db()
    assert case.assignee == outsider


def test_an_admin_reassigns_any_case_to_a_member_of_its_team(org, admin_user, outsider,
                                                             agent):
    case = make_case(org["comms"])
    actions.check_assign(case, outsider, admin_user)
    with pytest.raises(actions.ActionError, match="not an active member"):
        actions.check_assign(case, agent, admin_user)
