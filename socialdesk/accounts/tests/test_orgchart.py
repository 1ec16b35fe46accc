"""The org chart file: `parse_org` refuses what the desk could not use and says where;
`do_import_org` creates or updates by slug, username or name, all or nothing, and
deletes only with replace; `export_org` writes a file that imports without a change;
`socialdesk org import|export|show` wraps them."""

import io
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.utils import timezone

from socialdesk.accounts.models import BusinessCalendar, Team, User
from socialdesk.accounts.orgchart import OrgError, do_import_org, export_org, parse_org
from socialdesk.audit.models import Event
from socialdesk.cases.models import Case, SlaPolicy
from socialdesk.contacts.models import Contact, Identity
from socialdesk.demo.setup import do_set_up_accounts
from socialdesk.routing.models import RoutingRule

DEMO = Path(__file__).resolve().parents[2] / "demo" / "data" / "org.yaml"

ORG = """
calendars:
  - {slug: uk-office, name: UK office, timezone: Europe/London,
     hours: {mon: ["09:00-17:30"], tue: ["09:00-17:30"]}, holidays: [2026-12-25]}
teams:
  - {slug: care, name: Care, calendar: uk-office, strategy: least_loaded,
     reassign_after_minutes: 30, supervisor: sam}
  - {slug: care-tier-1, name: Care Tier 1, parent: care, strategy: round_robin}
  - {slug: legal, name: Legal}
agents:
  - {username: sam, name: Sam Stone, role: supervisor, teams: [care]}
  - {username: ana, name: Ana Lima, email: ana@example.com, role: agent,
     teams: [care-tier-1], capacity: 8, skills: [billing], languages: [en, pt], channels: [],
     working_hours: uk-office, availability: online}
routing:
  fallback: care
  rules:
    - {name: legal-threats, when: {cues: [legal]}, team: legal}
    - {name: unhappy-owned, when: {has_account_owner: true}, team: account_owner}
sla:
  - {name: urgent, priorities: [P0, P1], first_response: 30m, next_response: 1h,
     resolution: 8h, warn_at_percent: 75, breach_actions: [notify_supervisor, escalate]}
account_owners:
  - {channel: x, handle: "@bigco_buyer", owner: ana, tier: vip}
"""


@pytest.fixture
def importer(db):
    """Someone to name in the audit log, on a desk with no teams yet."""
    return User.objects.create_user("ida", role=User.Role.ADMIN)


def counts(report) -> dict[str, tuple[int, int, int]]:
    return {s: (c.created, c.updated, c.deleted) for s, c in report.counts.items()}


def org_with(**sections) -> str:
    data = yaml.safe_load(ORG)
    data.update(sections)
    return yaml.safe_dump(data, sort_keys=False)


def failure(text: str) -> str:
    with pytest.raises(OrgError) as caught:
        parse_org(text)
    return str(caught.value)


# -- importing ---------------------------------------------------------------------------------


def test_import_creates_everything_the_file_lists_and_records_one_event(importer):
    report = do_import_org(parse_org(ORG), actor=importer)
    assert counts(report) == {"calendars": (1, 0, 0), "agents": (2, 0, 0), "teams": (3, 0, 0),
                              "routing": (2, 0, 0), "sla": (1, 0, 0),
                              "account_owners": (1, 0, 0)}
    tier1 = Team.objects.get(slug="care-tier-1")
    assert (tier1.parent.slug, tier1.strategy, tier1.calendar) == ("care", "round_robin", None)
    care = Team.objects.get(slug="care")
    assert (care.supervisor.username, care.calendar.slug, care.reassign_after_minutes) == (
        "sam", "uk-office", 30)
    assert BusinessCalendar.objects.get().holidays == ["2026-12-25"]
    ana = User.objects.get(username="ana")
    assert (ana.first_name, ana.last_name, ana.capacity, ana.skills, ana.languages) == (
        "Ana", "Lima", 8, ["billing"], ["en", "pt"])
    assert [t.slug for t in ana.teams.all()] == ["care-tier-1"]
    assert ana.working_hours.slug == "uk-office" and not ana.has_usable_password()
    assert list(RoutingRule.objects.values_list("name", "team")) == [
        ("legal-threats", "legal"), ("unhappy-owned", "account_owner")]
    urgent = SlaPolicy.objects.get()
    assert (urgent.first_response_minutes, urgent.next_response_minutes,
            urgent.resolution_minutes, urgent.breach_actions) == (
        30, 60, 480, ["notify_supervisor", "escalate"])
    contact = Identity.objects.get(channel="x", handle="bigco_buyer").contact
    assert (contact.account_owner, contact.tier) == (ana, "vip")
    event = Event.objects.get(verb="org.imported")
    assert event.actor == importer
    assert event.data["teams"] == {"created": 3, "updated": 0, "deleted": 0}


def test_a_second_import_creates_and_updates_nothing_and_records_nothing(db):
    do_import_org(parse_org(ORG))
    report = do_import_org(parse_org(ORG))
    assert all(c.created == c.updated == c.deleted == 0 for c in report.counts.values())
    assert report.counts["teams"].unchanged == 3 and not report.changed
    assert Event.objects.filter(verb="org.imported").count() == 1


def test_a_changed_file_updates_only_what_differs(db):
    do_import_org(parse_org(ORG))
    changed = ORG.replace("capacity: 8", "capacity: 12").replace(
        "teams: [care-tier-1]", "teams: [care-tier-1, legal]")
    report = do_import_org(parse_org(changed))
    assert counts(report)["agents"] == (0, 1, 0) and report.counts["agents"].unchanged == 1
    ana = User.objects.get(username="ana")
    assert ana.capacity == 12 and {t.slug for t in ana.teams.all()} == {"care-tier-1", "legal"}


def test_a_key_left_out_keeps_the_stored_value_and_null_clears_it(db):
    do_import_org(parse_org(ORG))
    do_import_org(parse_org("agents: [{username: ana, role: supervisor}]\n"
                            "teams: [{slug: care, calendar: null}]"))
    ana = User.objects.get(username="ana")
    assert (ana.role, ana.capacity, ana.skills, ana.first_name) == (
        "supervisor", 8, ["billing"], "Ana")
    assert ana.teams.count() == 1
    care = Team.objects.get(slug="care")
    assert care.calendar is None and care.supervisor.username == "sam"


def test_a_user_made_admin_gets_the_admin_rights_and_loses_them_with_the_role(db):
    do_import_org(parse_org(ORG))
    do_import_org(parse_org("agents: [{username: ana, role: admin}]"))
    ana = User.objects.get(username="ana")
    assert ana.is_staff and ana.is_superuser
    do_import_org(parse_org("agents: [{username: ana, role: agent}]"))
    ana.refresh_from_db()
    assert not ana.is_staff and not ana.is_superuser


def test_an_existing_user_keeps_their_password(db, agent):
    do_import_org(parse_org("agents: [{username: alice, capacity: 3}]"))
    agent.refresh_from_db()
    assert agent.capacity == 3 and agent.check_password("a long test password 1")


def test_without_replace_nothing_is_deleted(db, teams, outsider):
    RoutingRule.objects.create(position=1, name="old-rule", team="care")
    SlaPolicy.objects.create(name="old-sla", first_response_minutes=60)
    do_import_org(parse_org(ORG))
    assert Team.objects.filter(slug="moderation").exists()
    assert SlaPolicy.objects.filter(name="old-sla").exists()
    assert [t.slug for t in User.objects.get(username="mallory").teams.all()] == ["comms"]


def test_the_routing_section_is_the_whole_rule_list_in_order(db):
    RoutingRule.objects.create(position=1, name="old-rule", team="care")
    do_import_org(parse_org(ORG))
    rules = org_with(routing={"rules": [
        {"name": "unhappy-owned", "when": {"has_account_owner": True}, "team": "account_owner"},
        {"name": "legal-threats", "when": {"cues": ["legal"]}, "team": "legal",
         "enabled": False}]})
    report = do_import_org(parse_org(rules))
    assert list(RoutingRule.objects.values_list("name", "enabled")) == [
        ("unhappy-owned", True), ("legal-threats", False)]
    assert report.counts["routing"].deleted == 0 and report.counts["routing"].updated == 1
    assert not RoutingRule.objects.filter(name="old-rule").exists()


def test_replace_deletes_what_the_file_does_not_list_but_never_a_user(db, teams, outsider):
    SlaPolicy.objects.create(name="old-sla", first_response_minutes=60)
    BusinessCalendar.objects.create(slug="us-office", name="US office")
    report = do_import_org(parse_org(ORG), replace=True)
    assert set(Team.objects.values_list("slug", flat=True)) == {"care", "care-tier-1", "legal"}
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == ["urgent"]
    assert list(BusinessCalendar.objects.values_list("slug", flat=True)) == ["uk-office"]
    mallory = User.objects.get(username="mallory")
    assert mallory.teams.count() == 0 and mallory.is_active
    assert report.counts["teams"].deleted == 4 and report.counts["sla"].deleted == 1
    assert any("mallory" in note for note in report.notes)


def test_replace_takes_users_the_file_does_not_list_off_their_teams(db, teams, agent):
    do_import_org(parse_org(ORG), replace=True)
    assert User.objects.get(username="alice").teams.count() == 0  # care was kept, alice not


def test_replace_leaves_sections_the_file_does_not_have(db, teams):
    SlaPolicy.objects.create(name="old-sla", first_response_minutes=60)
    do_import_org(parse_org("teams: [{slug: care, name: Care}]"), replace=True)
    assert list(Team.objects.values_list("slug", flat=True)) == ["care"]
    assert SlaPolicy.objects.filter(name="old-sla").exists()


def test_replace_refuses_to_delete_a_team_with_cases_and_changes_nothing(db, teams):
    now = timezone.now()
    Case.objects.create(priority="P2", decision="respond", category="complaint", channel="x",
                        contact=Contact.objects.create(), team=teams["moderation"], subject="s",
                        opened_at=now, last_inbound_at=now)
    with pytest.raises(OrgError, match="cannot delete team 'moderation'.*still has cases"):
        do_import_org(parse_org(ORG), replace=True)
    assert not BusinessCalendar.objects.exists() and not User.objects.exists()
    assert Team.objects.count() == 6 and not Event.objects.exists()


def test_with_replace_references_must_be_in_the_file(db, teams):
    chart = parse_org("teams: [{slug: tier-1, name: Tier 1, parent: comms}]")
    with pytest.raises(OrgError, match=r"teams\[0\] \(tier-1\): parent 'comms' is not a team "
                                       r"in this file \(--replace deletes the others\)"):
        do_import_org(chart, replace=True)


def test_a_dry_run_reports_the_counts_and_changes_nothing(db):
    report = do_import_org(parse_org(ORG), dry_run=True)
    assert counts(report)["teams"] == (3, 0, 0) and report.dry_run
    assert not Team.objects.exists() and not User.objects.exists()
    assert not Event.objects.exists()


def test_the_files_fallback_team_is_stored_and_exported(db):
    from socialdesk.routing.actions import active_rules

    assert active_rules().fallback == "care"  # the packaged default
    do_import_org(parse_org(ORG.replace("fallback: care", "fallback: legal")))
    assert active_rules().fallback == "legal"
    assert yaml.safe_load(export_org())["routing"]["fallback"] == "legal"
    again = do_import_org(parse_org(ORG.replace("fallback: care", "fallback: legal")))
    assert not again.changed  # the same file twice changes nothing


def test_an_sla_policy_must_end_with_a_target_even_when_the_file_clears_one(db):
    do_import_org(parse_org("sla: [{name: slow, resolution: 2d}]"))
    with pytest.raises(OrgError, match=r"sla\[0\] \(slow\): needs at least one target"):
        do_import_org(parse_org("sla: [{name: slow, resolution: null}]"))


# -- exporting ---------------------------------------------------------------------------------


def test_export_imports_back_without_a_change(db, teams, outsider):
    do_import_org(parse_org(ORG))
    RoutingRule.objects.filter(name="legal-threats").update(position=35)
    source = export_org()
    report = do_import_org(parse_org(source))
    assert not report.changed, report.lines()
    assert export_org() == source
    assert RoutingRule.objects.get(name="legal-threats").position == 35


def test_export_writes_every_section_with_durations_in_words(db):
    do_import_org(parse_org(ORG))
    data = yaml.safe_load(export_org())
    assert [t["slug"] for t in data["teams"]] == ["care", "care-tier-1", "legal"]
    assert data["sla"][0]["first_response"] == "30m" and data["sla"][0]["resolution"] == "8h"
    assert data["account_owners"] == [{"channel": "x", "handle": "bigco_buyer", "owner": "ana",
                                       "tier": "vip"}]
    ana = next(a for a in data["agents"] if a["username"] == "ana")
    assert ana["name"] == "Ana Lima" and ana["working_hours"] == "uk-office"


def test_an_export_imports_into_an_empty_desk(db):
    do_import_org(parse_org(ORG))
    source = export_org()
    for model in (RoutingRule, SlaPolicy, Contact, Team, User, BusinessCalendar):
        model.objects.all().delete()
    report = do_import_org(parse_org(source))
    assert counts(report)["teams"] == (3, 0, 0) and counts(report)["agents"] == (2, 0, 0)
    assert export_org() == source


# -- the demo ----------------------------------------------------------------------------------


def test_the_demo_org_chart_parses_and_imports(db):
    chart = parse_org(DEMO.read_text(encoding="utf-8"))
    report = do_import_org(chart)
    created = {s: c.created for s, c in report.counts.items()}
    assert created == {"calendars": 2, "agents": 11, "teams": 9, "routing": 6, "sla": 5,
                       "account_owners": 4}
    assert Team.objects.get(slug="care-tier-2").strategy == "skills"
    assert Team.objects.get(slug="pr").calendar.hours is None
    assert Team.objects.get(slug="sales").supervisor.username == "grace"
    assert SlaPolicy.objects.get(name="p4-low").first_response_minutes == 24 * 60
    assert {t.slug for t in User.objects.get(username="agent").teams.all()} == {
        "care", "community"}
    assert not do_import_org(parse_org(DEMO.read_text(encoding="utf-8"))).changed


def test_the_demo_org_chart_keeps_the_accounts_the_demo_sets_up(db):
    passwords = do_set_up_accounts()
    do_import_org(parse_org(DEMO.read_text(encoding="utf-8")))
    agent = User.objects.get(username="agent")
    assert agent.check_password(passwords["agent"]) and agent.role == User.Role.AGENT
    assert User.objects.get(username="admin").is_superuser


def test_the_example_in_the_docs_imports(db):
    doc = (Path(__file__).resolve().parents[3] / "docs" / "ORG.md").read_text(encoding="utf-8")
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    report = do_import_org(parse_org(example))
    assert counts(report)["agents"] == (2, 0, 0) and counts(report)["routing"] == (3, 0, 0)


# -- refusing bad files ------------------------------------------------------------------------


@pytest.mark.parametrize("text, message", [
    ("people: []", "unknown section 'people' (known: calendars, teams, agents, routing, sla, "
                   "account_owners)"),
    ("- just a list", "expected a mapping with some of: calendars"),
    ("teams: [{slug: care, name: Care, colour: red}]",
     "teams[0]: unknown field 'colour' (known: slug, name, parent, supervisor, calendar, "
     "strategy, reassign_after_minutes)"),
    ("teams: [{slug: Care Team}]", "teams[0]: slug must be a slug such as care-tier-1, "
                                   "not 'Care Team'"),
    ("teams: [{slug: care}, {slug: care}]", "teams[1] (care): 'care' is listed twice "
                                            "(first at teams[0] (care))"),
    ("teams: [{slug: care, strategy: fastest}]",
     "teams[0] (care): strategy must be one of least_loaded, round_robin, skills, "
     "not 'fastest'"),
    ("calendars: [{slug: uk, hours: {mon: ['09:00-25:00']}}]",
     "calendars[0] (uk): hours.mon[0]: '09:00-25:00' is not a valid time range"),
    ("calendars: [{slug: uk, timezone: Europe/Londres}]",
     "calendars[0] (uk): timezone: unknown time zone 'Europe/Londres'"),
    ("calendars: [{slug: uk, holidays: [25/12/2026]}]",
     "calendars[0] (uk): holidays[0]: '25/12/2026' is not a date in the form YYYY-MM-DD"),
    ("teams: [{slug: care}, {slug: care-tier-1, parent: carre}]",
     "teams[1] (care-tier-1): parent 'carre' is not a team in this file or the database"),
    ("teams: [{slug: a, parent: b}, {slug: b, parent: c}, {slug: c, parent: a}]",
     "teams[0] (a): parent 'b' makes a cycle: a → b → c → a"),
    ("teams: [{slug: care, parent: care}]", "teams[0] (care): a team cannot be its own parent"),
    ("teams: [{slug: care, supervisor: samm}]",
     "teams[0] (care): supervisor 'samm' is not a user in this file or the database"),
    ("teams: [{slug: care, calendar: uk}]",
     "teams[0] (care): calendar 'uk' is not a calendar in this file or the database"),
    ("teams: [{slug: care, reassign_after_minutes: soon}]",
     "teams[0] (care): reassign_after_minutes: 'soon' is not a duration such as 30m, 4h or 1d"),
    ("agents: [{username: ana, role: boss}]",
     "agents[0] (ana): role must be one of agent, supervisor, admin, not 'boss'"),
    ("agents: [{username: ana, skills: [Billing]}]",
     "agents[0] (ana): skills[0] 'Billing' is not a short lower-case word such as billing"),
    ("agents: [{username: ana, languages: [en, no]}]",
     "agents[0] (ana): languages[1] must be text, not False (put it in quotes)"),
    ("agents: [{username: ana, teams: [care]}]",
     "agents[0] (ana): team 'care' is not a team in this file or the database"),
    ("agents: [{username: ana, capacity: -1}]",
     "agents[0] (ana): capacity must be a whole number of open cases, not -1"),
    ("agents: [{username: ana, email: not-an-address}]",
     "agents[0] (ana): email 'not-an-address' is not an email address"),
    ("routing: {rules: [{name: legal, when: {cue: [legal]}, team: care}]}",
     "routing rule 'legal': unknown condition 'cue' in when"),
    ("routing: {rules: [{name: legal, when: {cues: [lawyer]}, team: care}]}",
     "routing rule 'legal': when.cues: unknown value 'lawyer'"),
    ("routing: {rules: [{name: legal, when: {cues: [legal]}, team: lawyers}]}",
     "routing.rules[0] (legal): team 'lawyers' is not a team in this file or the database"),
    ("routing: {rules: [{name: legal, team: care, priority: 1}]}",
     "routing.rules[0]: unknown field 'priority' (known: name, when, team, enabled)"),
    ("routing: {fallback: nowhere}", "routing: fallback 'nowhere' is not a team"),
    ("sla: [{name: urgent, first_response: 30m, breach_actions: [page_ceo]}]",
     "sla[0] (urgent): breach_actions: unknown value 'page_ceo' (allowed: raise_priority, "
     "notify_supervisor, reassign, escalate)"),
    ("sla: [{name: urgent, first_response: half an hour}]",
     "sla[0] (urgent): first_response: 'half an hour' is not a duration such as 30m, 4h or 1d"),
    ("sla: [{name: urgent, priorities: [P5], first_response: 1h}]",
     "sla[0] (urgent): priorities: unknown value 'P5' (allowed: P0 to P4)"),
    ("sla: [{name: urgent, first_response: 1h, warn_at_percent: 100}]",
     "sla[0] (urgent): warn_at_percent: must be a whole number from 1 to 99, not 100"),
    ("sla: [{name: urgent, first_response: null, next_response: null, resolution: null}]",
     "sla[0] (urgent): needs at least one target: first response, next response or resolution"),
    ("account_owners: [{channel: x, handle: bigco, owner: nobody}]",
     "account_owners[0] (x:bigco): owner 'nobody' is not a user in this file or the database"),
    ("account_owners: [{channel: x, handle: bigco, owner: ana, tier: gold}]",
     "account_owners[0] (x:bigco): tier must be one of , customer, vip, not 'gold'"),
])
def test_a_bad_file_is_refused_with_the_place_and_the_problem(db, text, message):
    if "owner: ana" in text:
        User.objects.create_user("ana")
    assert message in failure(text)


def test_a_cycle_through_teams_already_stored_is_refused(db):
    care = Team.objects.create(slug="care", name="Care")
    Team.objects.create(slug="tier-1", name="Tier 1", parent=care)
    assert failure("teams: [{slug: care, parent: tier-1}]") == (
        "teams[0] (care): parent 'tier-1' makes a cycle: care → tier-1 → care")


def test_references_to_rows_already_stored_are_accepted(db, teams, agent):
    chart = parse_org("teams: [{slug: tier-1, parent: care, supervisor: alice}]")
    assert chart.teams[0].fields == {"parent": "care", "supervisor": "alice"}
    assert chart.agents is None and chart.routing is None


def test_invalid_yaml_is_refused(db):
    assert failure("teams: [").startswith("not valid YAML:")


# -- the command -------------------------------------------------------------------------------


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("org", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def org_file(tmp_path):
    path = tmp_path / "org.yaml"
    path.write_text(ORG, encoding="utf-8")
    return path


def test_the_command_imports_a_file_and_says_what_it_did(org_file, importer):
    out, _ = run("import", str(org_file), "--by", "ida")
    assert f"{org_file}: imported." in out
    assert "teams: 3 created, 0 updated, 0 unchanged" in out
    assert Event.objects.get(verb="org.imported").actor == importer
    out, _ = run("import", str(org_file))
    assert "teams: 0 created, 0 updated, 3 unchanged" in out


def test_the_command_dry_run_changes_nothing(db, org_file):
    out, _ = run("import", str(org_file), "--dry-run")
    assert "teams: 3 created" in out and "Dry run: nothing was changed." in out
    assert not Team.objects.exists()


def test_the_command_replace_reports_deletions(db, org_file, teams):
    out, _ = run("import", str(org_file), "--replace")
    # care and legal were there already; care gains a calendar and a supervisor.
    assert "teams: 1 created, 1 updated, 1 unchanged, 4 deleted" in out


def test_the_command_refuses_a_bad_file_with_the_message(db, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("teams: [{slug: care, parent: carre}]")
    with pytest.raises(CommandError, match=r"bad.yaml: teams\[0\] \(care\): parent 'carre' "
                                           r"is not a team .*; nothing was changed"):
        run("import", str(bad))
    with pytest.raises(CommandError, match="no such file"):
        run("import", str(tmp_path / "missing.yaml"))


def test_the_command_exits_non_zero_on_a_bad_file(db, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("sla: [{name: x, first_response: soon}]")
    with pytest.raises(SystemExit) as exit_:
        execute_from_command_line(["socialdesk", "org", "import", str(bad)])
    assert exit_.value.code == 1
    assert "'soon' is not a duration" in capsys.readouterr().err


def test_the_command_exports_to_standard_output_or_a_file(db, org_file, tmp_path):
    run("import", str(org_file))
    out, _ = run("export")
    assert out == export_org()
    target = tmp_path / "out.yaml"
    _, err = run("export", "--out", str(target))
    assert target.read_text(encoding="utf-8") == out and "written to" in err


def test_the_command_shows_the_team_tree(db, org_file):
    run("import", str(org_file))
    out, _ = run("show")
    lines = out.splitlines()
    care = next(i for i, line in enumerate(lines) if line.startswith("Care (care)"))
    assert "least_loaded" in lines[care] and "supervisor sam" in lines[care]
    assert "calendar uk-office" in lines[care] and "reassign after 30 min" in lines[care]
    tier1 = next(line for line in lines if "Care Tier 1 (care-tier-1)" in line)
    assert tier1.startswith("  ") and "round_robin" in tier1
    assert any(line.strip() == "- ana (Ana Lima), agent, capacity 8, online" for line in lines)


def test_the_command_show_on_an_empty_desk_says_how_to_start(db):
    out, _ = run("show")
    assert "socialdesk org import" in out
