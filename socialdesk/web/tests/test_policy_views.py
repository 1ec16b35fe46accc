"""The response policy in the desk: supervisors and admins read the active version, its
rules and every stored version; admins check, simulate, install and activate versions
through the same actions as `socialdesk policy`, and an invalid policy changes nothing."""

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conftest import make_user, post
from socialdesk.accounts.models import User
from socialdesk.audit.models import Event
from socialdesk.triage.actions import active_policy, do_install_policy
from socialdesk.triage.models import ResponsePolicy, Triage
from socialdesk.triage.policy import DEFAULT_POLICY_PATH, parse_policy
from socialdesk.web import policy_views

COMPLAINT = "my kettle stopped working after a week, really disappointed"
EDIT = reverse("web:policy_edit")


def candidate(change=None, name="complaints go to pr") -> str:
    """The built-in policy under another name, changed by `change(data)`."""
    data = yaml.safe_load(DEFAULT_POLICY_PATH.read_text())
    data["name"] = name
    if change:
        change(data)
    return yaml.safe_dump(data, sort_keys=False)


def complaints_escalated(data):
    rule = next(r for r in data["rules"] if r["name"] == "unhappy-customer")
    rule.update(decision="escalate", owner="pr")


COMPLAINTS_ESCALATED = candidate(complaints_escalated)
INVALID = COMPLAINTS_ESCALATED.replace("decision: escalate", "decision: ignore", 1)


@pytest.fixture
def other_supervisor(teams):
    return make_user("sue", role=User.Role.SUPERVISOR, teams=[teams["comms"]])


@pytest.fixture
def as_admin(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def two_versions(admin_user):
    """The built-in policy as version 1, and version 2 (complaints escalated) active."""
    first = active_policy().version
    second = do_install_policy(COMPLAINTS_ESCALATED, actor=admin_user).version
    return first, second


@pytest.fixture
def complaints(feed, teams):
    """Three complaints stored through the whole pipeline under the built-in policy."""
    feed(*[post(str(i), COMPLAINT, author=f"c{i}") for i in range(3)])
    triages = Triage.objects.all()
    assert [(t.category, t.decision) for t in triages] == [("complaint", "respond")] * 3
    return triages


def text(response) -> str:
    return response.content.decode()


def shown_source(response) -> str:
    return response.context["form"]["source"].value()


def flashed(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --------------------------------------------------------------------------
# Who sees what
# --------------------------------------------------------------------------

def test_the_pages_need_a_login(client, two_versions):
    first, _ = two_versions
    for url in [reverse("web:policy"), reverse("web:policy_version", args=[first]),
                reverse("web:policy_download", args=[first]), EDIT]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("web:login"))


def test_agents_are_told_the_policy_pages_are_for_supervisors_and_admins(
        client, agent, outsider, two_versions):
    first, second = two_versions
    for person in (agent, outsider):
        client.force_login(person)
        for url in [reverse("web:policy"), reverse("web:policy_version", args=[first]),
                    reverse("web:policy_download", args=[first])]:
            response = client.get(url)
            assert response.status_code == 403, url
        assert "Only supervisors and admins see the response policy" in text(response)
        assert client.get(EDIT).status_code == 403
        assert client.post(EDIT, {"action": "install", "source": candidate()}).status_code == 403
        assert client.post(reverse("web:policy_activate", args=[first])).status_code == 403
        assert f'href="{reverse("web:policy")}"' not in text(client.get(reverse("web:inbox")))
    assert active_policy().version == second
    assert ResponsePolicy.objects.count() == 2


def test_supervisors_read_the_policy_but_only_admins_change_it(
        client, supervisor, other_supervisor, two_versions):
    first, second = two_versions
    for person in (supervisor, other_supervisor):
        client.force_login(person)
        response = client.get(reverse("web:policy"))
        assert response.status_code == 200
        assert f'href="{reverse("web:policy")}"' in text(response)  # the navigation's link
        assert EDIT not in text(response)
        assert reverse("web:policy_activate", args=[first]) not in text(response)
        response = client.get(reverse("web:policy_version", args=[first]))
        assert response.status_code == 200
        assert reverse("web:policy_activate", args=[first]) not in text(response)
        assert client.get(reverse("web:policy_download", args=[first])).status_code == 200
        response = client.get(EDIT)
        assert response.status_code == 403
        assert "Only admins change the response policy" in text(response)
        assert client.post(EDIT, {"action": "install", "source": candidate()}).status_code == 403
        assert client.post(reverse("web:policy_activate", args=[first])).status_code == 403
    assert active_policy().version == second
    assert ResponsePolicy.objects.count() == 2


def test_an_unknown_version_is_not_found(as_admin, two_versions):
    for url in [reverse("web:policy_version", args=[99]),
                reverse("web:policy_download", args=[99])]:
        assert as_admin.get(url).status_code == 404
    assert as_admin.post(reverse("web:policy_activate", args=[99])).status_code == 404


# --------------------------------------------------------------------------
# The policy page
# --------------------------------------------------------------------------

SMALL_POLICY = """\
name: Small desk
severity:
  high_reach_followers: 5000
  s2_tiers: [vip]
  s3_cues: [safety]
rules:
  - name: crisis
    when: {category: [crisis]}
    decision: escalate
    reply_mode: holding_statement
    owner: pr
    severity:
      1: {priority: P0, first_response: 30m}
  - name: unhappy
    when: {category: [complaint], not: {tier: [vip]}}
    decision: respond
    reply_mode: acknowledge_then_private
    owner: care
    severity:
      1: {priority: P2, first_response: 1h}
      2: {priority: P1, first_response: 30m, owner: account_owner}
      3: {priority: P0, decision: escalate, first_response: 30m}
  - name: vip-unhappy
    extends: unhappy
    when: {category: [complaint]}
    owner: pr
  - name: rest
    decision: monitor
    reply_mode: none
    owner: care
    severity:
      1: {priority: P4}
adjustments:
  - name: outage
    when: {cues: [outage], decision: [monitor]}
    set: {priority_at_least: P2, decision: respond, reply_mode: public, first_response: 2d}
approvals:
  - name: vip-needs-supervisor
    when: {tier: [vip]}
    by: supervisor
  - name: crisis-needs-pr
    when: {rule: [crisis], labels: [crisis]}
    by: pr
"""


def test_the_page_shows_the_active_version_and_its_rules_in_order(client, supervisor,
                                                                  admin_user):
    version = do_install_policy(SMALL_POLICY, actor=admin_user).version
    client.force_login(supervisor)
    response = client.get(reverse("web:policy"))
    page = text(response)
    assert f"version {version}</strong>, Small desk" in page
    assert "by ada" in page
    assert [(r["name"], r["extends"], r["when"], r["decision"], r["reply_mode"], r["owner"])
            for r in response.context["rules"]] == [
        ("crisis", None, "category crisis", "escalate", "holding statement", "pr"),
        ("unhappy", None, "category complaint and not (tier vip)", "respond",
         "acknowledge then private", "care"),
        ("vip-unhappy", "unhappy", "category complaint", "respond", "acknowledge then private",
         "pr"),
        ("rest", None, "any post no rule above took", "monitor", "none", "care"),
    ]
    levels = {r["name"]: [(lv["priority"], lv["target"], lv["also"]) for lv in r["levels"]]
              for r in response.context["rules"]}
    assert levels["unhappy"] == [("P2", "1 h", ""), ("P1", "30 min", "owner account_owner"),
                                 ("P0", "30 min", "escalate")]
    assert levels["vip-unhappy"] == [("P2", "1 h", ""), ("P1", "30 min", ""),
                                     ("P0", "30 min", "escalate")]
    assert levels["rest"] == [("P4", "no target", "")] * 3
    assert response.context["adjustments"] == [{
        "name": "outage", "when": "cues outage and decision monitor",
        "changes": "priority at least P2; decision respond; reply mode public; "
                   "first response 2 d"}]
    assert response.context["approvals"] == [
        {"name": "vip-needs-supervisor", "when": "tier vip",
         "by": "the case team's supervisor"},
        {"name": "crisis-needs-pr", "when": "rule crisis and labels crisis",
         "by": "a member of pr"}]
    for shown in ["category complaint and not (tier vip)", "(extends unhappy)",
                  "acknowledge then private", "a cue: safety.",
                  "the contact's tier is vip, or the author has at least 5,000 followers",
                  "Volume spikes are not looked for."]:
        assert shown in page


def test_the_page_words_the_brand_s_accounts_and_volume_spikes(client, supervisor, admin_user):
    do_install_policy(SMALL_POLICY.replace(
        "  s3_cues: [safety]\n",
        "  s2_accounts: [\"@KettleCo_Help\", kettleco]\n  s3_cues: [safety, volume_spike]\n"
        "volume_spike: {window: 30m, baseline: 2d, factor: 5, min_posts: 12, "
        "keys: [topics, outage]}\n"), actor=admin_user)
    client.force_login(supervisor)
    page = text(client.get(reverse("web:policy")))
    assert ("the contact's tier is vip, the post is on the brand&#x27;s account @kettleco "
            "or @kettleco_help, or the author") in page
    assert ("Volume spikes: posts on any brand topic and the cue outage get the volume_spike "
            "cue when the last 30 min holds at least 12 of them, 5 times the usual rate of the "
            "2 d before.") in page
    assert "a cue: safety, volume_spike." in page


def test_the_history_lists_every_version_with_the_decisions_made_under_it(
        as_admin, complaints, admin_user):
    first = active_policy().version
    second = do_install_policy(COMPLAINTS_ESCALATED, actor=admin_user).version
    response = as_admin.get(reverse("web:policy"))
    rows = {row.version: row for row in response.context["versions"]}
    assert list(rows) == [second, first]
    assert (rows[first].decided, rows[second].decided) == (3, 0)
    assert rows[first].created_by is None and rows[second].created_by == admin_user
    page = text(response)
    assert reverse("web:policy_version", args=[first]) in page
    assert f"Activate version {first} in place of version {second}" in page
    assert f"Activate version {second} in place" not in page  # the active one


# --------------------------------------------------------------------------
# A version, its diff against the active one, its YAML file
# --------------------------------------------------------------------------

def test_a_version_shows_its_yaml_and_the_lines_that_differ_from_the_active_one(
        as_admin, two_versions):
    first, second = two_versions
    response = as_admin.get(reverse("web:policy_version", args=[first]))
    assert response.status_code == 200
    page = text(response)
    assert "name: Default response matrix" in page
    kinds = {(line["kind"], line["text"]) for line in response.context["diff"]}
    assert ("removed", "-name: complaints go to pr") in kinds
    assert ("added", "+name: Default response matrix") in kinds
    assert ("removed", "-  decision: escalate") in kinds
    assert '<span class="diff-line diff-added">+name: Default response matrix</span>' in page
    assert '<span class="diff-line diff-removed">-  decision: escalate</span>' in page
    assert f"Activate version {first} in place of version {second}" in page
    response = as_admin.get(reverse("web:policy_version", args=[second]))
    assert response.context["diff"] == []
    assert "This is the active version." in text(response)


def test_a_version_downloads_as_a_yaml_file(client, supervisor, two_versions):
    first, _ = two_versions
    client.force_login(supervisor)
    response = client.get(reverse("web:policy_download", args=[first]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/yaml; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="policy-v{first}.yaml"'
    assert response.content.decode() == DEFAULT_POLICY_PATH.read_text()


# --------------------------------------------------------------------------
# Check, simulate, install, activate
# --------------------------------------------------------------------------

def test_the_edit_page_starts_from_the_active_policy(as_admin, two_versions):
    response = as_admin.get(EDIT)
    assert response.status_code == 200
    assert shown_source(response) == COMPLAINTS_ESCALATED
    assert response.context["form"]["limit"].value() == "10000"
    page = text(response)
    for button in ('value="check"', 'value="simulate"', 'value="install"'):
        assert button in page
    assert 'enctype="multipart/form-data"' in page


def test_check_says_a_valid_policy_is_valid_and_shows_what_it_changes(as_admin):
    active_policy()
    response = as_admin.post(EDIT, {"action": "check", "source": COMPLAINTS_ESCALATED})
    assert response.status_code == 200
    policy = parse_policy(COMPLAINTS_ESCALATED)
    assert (f"Valid: “complaints go to pr”, {len(policy.rules)} rules, "
            f"{len(policy.adjustments)} adjustments, {len(policy.approvals)} approvals."
            in text(response))
    assert ("added", "+  decision: escalate") in {(line["kind"], line["text"])
                                                   for line in response.context["diff"]}
    assert shown_source(response) == COMPLAINTS_ESCALATED
    assert ResponsePolicy.objects.count() == 1


def test_check_shows_an_invalid_policys_error_keeps_the_text_and_installs_nothing(as_admin):
    before = active_policy().version
    response = as_admin.post(EDIT, {"action": "check", "source": INVALID})
    assert response.status_code == 422
    assert "decision must be one of respond, escalate, monitor, let_stand, hide, not " \
           "&#x27;ignore&#x27;" in text(response)
    assert shown_source(response) == INVALID
    assert active_policy().version == before
    assert ResponsePolicy.objects.count() == 1


def test_check_refuses_a_topic_the_desk_does_not_have_as_install_would(as_admin):
    active_policy()
    source = candidate(lambda data: data["rules"].insert(0, {
        "name": "billing", "when": {"topics": ["billing"]}, "decision": "respond",
        "reply_mode": "private", "owner": "care", "severity": {1: {"priority": "P2"}}}))
    response = as_admin.post(EDIT, {"action": "check", "source": source})
    assert response.status_code == 422
    assert "unknown topic &#x27;billing&#x27;" in text(response)


def test_install_stores_a_new_active_version_with_an_audit_event(as_admin, admin_user):
    before = active_policy().version
    response = as_admin.post(EDIT, {"action": "install", "source": COMPLAINTS_ESCALATED},
                             follow=True)
    assert response.redirect_chain == [(reverse("web:policy"), 302)]
    row = ResponsePolicy.objects.get(is_active=True)
    assert (row.version, row.name, row.created_by) == (before + 1, "complaints go to pr",
                                                        admin_user)
    assert row.source == COMPLAINTS_ESCALATED
    assert active_policy().version == before + 1
    event = Event.objects.get(verb="policy.installed", data__version=before + 1)
    assert (event.actor, event.data["version"], event.data["previous"]) == (
        admin_user, before + 1, before)
    assert f"Version {before + 1} (complaints go to pr) is installed and active" in \
        " ".join(flashed(response))


def test_install_keeps_the_line_breaks_a_browser_sends_as_plain_newlines(as_admin):
    active_policy()
    as_admin.post(EDIT, {"action": "install",
                         "source": COMPLAINTS_ESCALATED.replace("\n", "\r\n")})
    assert ResponsePolicy.objects.get(is_active=True).source == COMPLAINTS_ESCALATED


def test_install_refuses_an_invalid_policy_and_the_active_one_stays(as_admin):
    before = active_policy().version
    response = as_admin.post(EDIT, {"action": "install", "source": INVALID})
    assert response.status_code == 422
    page = text(response)
    assert "The policy is not valid" in page and "&#x27;ignore&#x27;" in page
    assert f"version {before} stays active" in page
    assert shown_source(response) == INVALID
    assert active_policy().version == before
    assert ResponsePolicy.objects.count() == 1
    assert not Event.objects.filter(verb="policy.installed", data__version=before + 1).exists()


def test_activate_switches_back_to_an_older_version_with_an_audit_event(
        as_admin, admin_user, two_versions):
    first, second = two_versions
    response = as_admin.post(reverse("web:policy_activate", args=[first]), follow=True)
    assert response.redirect_chain == [(reverse("web:policy"), 302)]
    assert f"Version {first} (Default response matrix) is now active (was version {second})." \
        in flashed(response)
    assert active_policy().version == first
    assert ResponsePolicy.objects.get(is_active=True).version == first
    event = Event.objects.get(verb="policy.activated")
    assert (event.actor, event.data["version"], event.data["previous"]) == (
        admin_user, first, second)
    response = as_admin.post(reverse("web:policy_activate", args=[first]), follow=True)
    assert f"Version {first} (Default response matrix) is already active." in flashed(response)


def test_activate_is_a_post(as_admin, two_versions):
    first, second = two_versions
    assert as_admin.get(reverse("web:policy_activate", args=[first])).status_code == 405
    assert active_policy().version == second


def test_simulate_shows_the_decisions_that_change_on_posts_stored_by_the_pipeline(
        as_admin, complaints):
    response = as_admin.post(EDIT, {"action": "simulate", "source": COMPLAINTS_ESCALATED,
                                    "limit": "10000"})
    assert response.status_code == 200
    report = response.context["report"]
    assert (report["posts"], report["changed"], report["share"]) == (3, 3, "100.0%")
    assert report["changes"]["decision"] == [{"from": "respond", "to": "escalate", "posts": 3}]
    assert report["changes"]["owner"] == [{"from": "care", "to": "pr", "posts": 3}]
    assert report["queues"] == [
        {"team": "care", "current": 3, "candidate": 0, "change": "-3"},
        {"team": "pr", "current": 0, "candidate": 3, "change": "+3"}]
    assert {(row["team"], row["target"], row["change"]) for row in report["sla"]} == {
        ("care", "≤1h", "-3"), ("pr", "≤1h", "+3")}
    assert len(report["examples"]) == 3
    assert report["examples"][0]["candidate"]["rule"] == "unhappy-customer"
    page = text(response)
    assert "<td>respond</td><td>escalate</td><td>3</td>" in page
    assert "3 posts change</strong> (100.0%)" in page
    assert "the 10,000 most recent posts" in page
    assert COMPLAINT[:40] in page
    assert ResponsePolicy.objects.count() == 1
    assert [t.decision for t in Triage.objects.all()] == ["respond"] * 3


@pytest.mark.parametrize("limit, posts", [("1000", 3), ("all", 3), ("", 3)])
def test_simulate_replays_the_most_recent_posts_or_all(as_admin, complaints, monkeypatch,
                                                       limit, posts):
    asked = []

    def simulate(current, candidate, since=None, limit=None, examples=5):
        asked.append(limit)
        return real(current, candidate, since=since, limit=limit, examples=examples)

    real = policy_views.simulate_stored
    monkeypatch.setattr(policy_views, "simulate_stored", simulate)
    response = as_admin.post(EDIT, {"action": "simulate", "source": COMPLAINTS_ESCALATED,
                                    "limit": limit})
    assert response.status_code == 200
    assert response.context["report"]["posts"] == posts
    assert asked == [{"1000": 1000, "all": None, "": 10_000}[limit]]


def test_simulate_checks_the_policy_first(as_admin, complaints):
    response = as_admin.post(EDIT, {"action": "simulate", "source": INVALID})
    assert response.status_code == 422
    assert "&#x27;ignore&#x27;" in text(response)
    assert "report" not in response.context


# --------------------------------------------------------------------------
# Uploads and bad input
# --------------------------------------------------------------------------

def test_an_uploaded_yaml_file_is_used_instead_of_the_text_and_shown(as_admin):
    active_policy()
    upload = SimpleUploadedFile("candidate.yaml", COMPLAINTS_ESCALATED.encode())
    response = as_admin.post(EDIT, {"action": "check", "source": "ignored", "upload": upload})
    assert response.status_code == 200
    assert "Valid: “complaints go to pr”" in text(response)
    assert shown_source(response) == COMPLAINTS_ESCALATED


def test_an_uploaded_yaml_file_installs(as_admin, admin_user):
    before = active_policy().version
    upload = SimpleUploadedFile("candidate.yml", COMPLAINTS_ESCALATED.encode())
    response = as_admin.post(EDIT, {"action": "install", "source": "", "upload": upload})
    assert response.status_code == 302
    row = ResponsePolicy.objects.get(is_active=True)
    assert (row.version, row.source, row.created_by) == (before + 1, COMPLAINTS_ESCALATED,
                                                          admin_user)


@pytest.mark.parametrize("data, message", [
    ({"action": "check", "source": ""}, "Paste a policy or upload a .yaml file."),
    ({"action": "install", "source": "  \n "}, "Paste a policy or upload a .yaml file."),
    ({"action": "check", "source": "name: [unclosed"}, "not valid YAML"),
    ({"action": "check", "source": "just words"}, "a policy must be a YAML mapping"),
    ({"action": "simulate", "source": COMPLAINTS_ESCALATED, "limit": "5"},
     "Simulate on 1,000, 10,000 or all stored posts."),
    ({"action": "simulate", "source": COMPLAINTS_ESCALATED, "limit": "-1"},
     "Simulate on 1,000, 10,000 or all stored posts."),
    ({"source": COMPLAINTS_ESCALATED}, "Choose Check, Simulate or Install."),
    ({"action": "delete", "source": COMPLAINTS_ESCALATED}, "Choose Check, Simulate or Install."),
    ({"action": "install", "source": "x" * (policy_views.MAX_SOURCE_CHARS + 1)},
     "at most 1048576 characters"),
])
def test_bad_input_is_refused_with_a_message(as_admin, data, message):
    before = active_policy().version
    response = as_admin.post(EDIT, data)
    assert response.status_code == 422
    assert message in text(response)
    assert active_policy().version == before
    assert ResponsePolicy.objects.count() == 1


@pytest.mark.parametrize("upload, message", [
    (SimpleUploadedFile("policy.yaml", b"name: \xff\xfe"), "The file is not UTF-8 text."),
    (SimpleUploadedFile("policy.yaml", b"#" * (1024 * 1024 + 1)), "The file is over 1 MB"),
    (SimpleUploadedFile("policy.txt", b"name: x"), "Upload a .yaml or .yml file."),
    (SimpleUploadedFile("policy.yaml", b""), "The submitted file is empty."),
])
def test_a_bad_upload_is_refused_with_a_message_and_the_text_kept(as_admin, upload, message):
    before = active_policy().version
    response = as_admin.post(EDIT, {"action": "install", "source": COMPLAINTS_ESCALATED,
                                    "upload": upload})
    assert response.status_code == 422
    assert message in text(response)
    assert shown_source(response) == COMPLAINTS_ESCALATED
    assert active_policy().version == before
    assert ResponsePolicy.objects.count() == 1


def test_first_response_targets_read_as_written():
    assert [policy_views.target(m) for m in (None, 30, 60, 90, 240, 1440, 2880)] == [
        "no target", "30 min", "1 h", "1 h 30 min", "4 h", "24 h", "2 d"]
