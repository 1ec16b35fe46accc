"""Assignment within a team: each strategy, capacity and the queue, working hours,
reassignment when an assignee goes quiet, escalation up the chain."""

from datetime import UTC, datetime, timedelta

import pytest

from socialdesk.accounts.models import BusinessCalendar, Team, User
from socialdesk.audit.models import Event
from socialdesk.cases.models import Case
from socialdesk.contacts.models import Contact
from socialdesk.notifications.models import Notification
from socialdesk.routing.actions import (
    do_escalate,
    do_reassign_inactive,
    do_release_queues,
    do_set_availability,
)
from socialdesk.routing.assign import Assigner, Needs, escalation_chain

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def team(db):
    return Team.objects.create(slug="tier-1", name="Tier 1")


def agent(name, team, capacity=5, **fields):
    user = User.objects.create_user(username=name, capacity=capacity, **fields)
    user.teams.add(team)
    return user


def open_case(team, assignee=None, priority="P2", opened=NOW, **fields):
    contact = Contact.objects.create(name="customer")
    return Case.objects.create(
        status="open" if assignee else "new", priority=priority, decision="respond",
        category="complaint", channel=fields.pop("channel", "x"), contact=contact, team=team,
        assignee=assignee, subject="s", opened_at=opened, last_inbound_at=opened, **fields)


def test_least_loaded_picks_the_member_with_fewest_open_cases(team):
    ana, ben = agent("ana", team), agent("ben", team)
    open_case(team, ana)
    open_case(team, ana)
    open_case(team, ben)
    picks = [Assigner(NOW).pick(team).agent]
    assigner = Assigner(NOW)
    picks += [assigner.pick(team).agent for _ in range(3)]
    # ben (1) → ben (2) then ties go to the lower id, ana, and so on.
    assert [p.username for p in picks] == ["ben", "ben", "ana", "ben"]


def test_round_robin_takes_turns_and_remembers_the_last_across_batches(team):
    team.strategy = Team.Strategy.ROUND_ROBIN
    team.save()
    members = [agent(n, team) for n in ("ana", "ben", "cy")]
    open_case(team, members[0])  # loads do not matter to round robin
    first = Assigner(NOW)
    names = [first.pick(team).agent.username for _ in range(2)]
    first.save()
    second = Assigner(NOW)
    names += [second.pick(Team.objects.get(pk=team.pk)).agent.username for _ in range(2)]
    assert names == ["ana", "ben", "cy", "ana"]


def test_round_robin_skips_members_at_capacity(team):
    team.strategy = Team.Strategy.ROUND_ROBIN
    team.save()
    ana, ben = agent("ana", team, capacity=1), agent("ben", team)
    open_case(team, ana)
    assigner = Assigner(NOW)
    assert [assigner.pick(team).agent for _ in range(2)] == [ben, ben]


def test_skills_strategy_prefers_the_language_then_the_skills(team):
    team.strategy = Team.Strategy.SKILLS
    team.save()
    agent("ana", team, languages=["en"], skills=["billing"])
    ben = agent("ben", team, languages=["pt", "en"], skills=["delivery"])
    cy = agent("cy", team, languages=["pt"], skills=["billing"])
    pick = Assigner(NOW).pick(team, Needs(lang="pt", skills=frozenset({"billing"})))
    assert pick.agent == cy
    assert "speaks pt" in pick.why and "skills billing" in pick.why
    pick = Assigner(NOW).pick(team, Needs(lang="pt", skills=frozenset({"delivery"})))
    assert pick.agent == ben


def test_skills_strategy_falls_back_to_anyone_when_nobody_speaks_the_language(team):
    team.strategy = Team.Strategy.SKILLS
    team.save()
    ana = agent("ana", team, languages=["en"])
    pick = Assigner(NOW).pick(team, Needs(lang="ja"))
    assert pick.agent == ana and "nobody available speaks ja" in pick.why


def test_only_online_agents_within_their_working_hours_and_channels_are_picked(team):
    office = BusinessCalendar.objects.create(slug="office", name="Office",
                                             timezone="Europe/London",
                                             hours={"mon": ["09:00-17:00"]})
    agent("away", team, availability=User.Availability.AWAY)
    agent("monday-only", team, working_hours=office)  # NOW is a Wednesday
    agent("email-only", team, channels=["email"])
    assert Assigner(NOW).pick(team, Needs(channel="x")).agent is None
    assert Assigner(NOW).pick(team, Needs(channel="email")).agent.username == "email-only"
    monday = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
    assert Assigner(monday).pick(team, Needs(channel="x")).agent.username == "monday-only"


def test_everyone_at_capacity_leaves_the_case_in_the_queue_unless_it_is_urgent(team):
    ana = agent("ana", team, capacity=1)
    open_case(team, ana)
    pick = Assigner(NOW).pick(team)
    assert pick.agent is None and "at capacity" in pick.why
    assert Assigner(NOW).pick(team, force=True).agent == ana


def test_a_queued_case_is_assigned_when_capacity_frees(team):
    ana = agent("ana", team, capacity=1)
    busy = open_case(team, ana)
    older = open_case(team, opened=NOW - timedelta(hours=2), priority="P3")
    urgent = open_case(team, opened=NOW - timedelta(hours=1), priority="P1")
    assert do_release_queues(now=NOW) == 0
    busy.status = Case.Status.RESOLVED
    busy.save()
    assert do_release_queues(now=NOW) == 1
    urgent.refresh_from_db()
    older.refresh_from_db()
    # The most urgent waiting case goes first, however recent.
    assert (urgent.assignee, urgent.status, urgent.assigned_at) == (ana, "open", NOW)
    assert older.assignee is None
    event = Event.objects.get(verb="case.assigned", case=urgent)
    assert event.data["by"] == "queue" and "capacity freed" in event.data["why"]


def test_an_agent_coming_online_takes_queued_cases(team):
    ana = agent("ana", team, availability=User.Availability.OFFLINE)
    waiting = open_case(team)
    assert do_release_queues(now=NOW) == 0
    assert do_set_availability(ana, User.Availability.ONLINE) == 1
    waiting.refresh_from_db()
    assert waiting.assignee == ana
    assert Event.objects.filter(verb="agent.availability").exists()


def test_a_case_whose_assignee_does_not_act_in_time_is_reassigned_with_the_reason(team):
    team.reassign_after_minutes = 30
    team.save()
    ana, ben = agent("ana", team), agent("ben", team)
    quiet = open_case(team, ana, reassign_at=NOW - timedelta(minutes=1))
    acted = open_case(team, ana, reassign_at=None)
    not_yet = open_case(team, ana, reassign_at=NOW + timedelta(minutes=5))
    assert do_reassign_inactive(NOW) == 1
    for case in (quiet, acted, not_yet):
        case.refresh_from_db()
    assert quiet.assignee == ben and quiet.reassign_at == NOW + timedelta(minutes=30)
    assert (acted.assignee, not_yet.assignee) == (ana, ana)
    event = Event.objects.get(verb="case.reassigned")
    assert event.data["before"] == "ana" and event.data["assignee"] == "ben"
    assert "ana did not act within 30 minutes" in event.data["why"]
    assert Notification.objects.filter(user=ben, verb="case.reassigned").exists()
    assert do_reassign_inactive(NOW) == 0  # done once


def test_a_quiet_case_nobody_else_can_take_goes_back_to_the_queue(team):
    team.reassign_after_minutes = 30
    team.supervisor = agent("sue", team, capacity=0, role=User.Role.SUPERVISOR)
    team.save()
    ana = agent("ana", team)
    case = open_case(team, ana, reassign_at=NOW - timedelta(minutes=1))
    do_reassign_inactive(NOW)
    case.refresh_from_db()
    assert case.assignee is None
    assert Event.objects.get(verb="case.unassigned").data["before"] == "ana"
    assert Notification.objects.filter(user=team.supervisor, verb="case.unassigned").exists()


def test_the_escalation_chain_climbs_the_team_tree(team):
    care = Team.objects.create(slug="care", name="Care",
                               supervisor=User.objects.create_user("head"))
    team.parent = care
    team.supervisor = User.objects.create_user("lead")
    team.save()
    assert [u.username for u in escalation_chain(team)] == ["lead", "head"]


def test_escalating_moves_the_case_up_and_tells_the_new_teams_chain(team):
    care = Team.objects.create(slug="care", name="Care",
                               supervisor=User.objects.create_user("head"))
    team.parent = care
    team.save()
    senior = agent("senior", care, capacity=0)  # full, but escalations are urgent
    case = open_case(team, agent("ana", team))
    assert do_escalate(case, "first response target missed", now=NOW) == care
    case.refresh_from_db()
    assert (case.team, case.assignee) == (care, senior)
    event = Event.objects.get(verb="case.escalated")
    assert event.data["before"] == "tier-1" and event.data["team"] == "care"
    assert Notification.objects.filter(user__username="head", verb="case.escalated").exists()
