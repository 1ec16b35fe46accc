"""`socialdesk policy`: versions are shown, exported, installed and rolled back, with an audit
trail, and a bad file never changes what is in force."""

import json
from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from conftest import post
from socialdesk.audit.models import Event
from socialdesk.triage.actions import active_policy, do_activate_policy
from socialdesk.triage.models import ResponsePolicy
from socialdesk.triage.policy import DEFAULT_POLICY_PATH, PolicyError, decide, severity_of
from tests.test_cli import socialdesk

PRAISE_MONITORED = "praise is monitored"


def praise_monitored() -> str:
    data = yaml.safe_load(DEFAULT_POLICY_PATH.read_text())
    data["name"] = PRAISE_MONITORED
    positive = next(r for r in data["rules"] if r["name"] == "positive")
    positive.update(decision="monitor", reply_mode="none", severity={1: {"priority": "P4"}})
    return yaml.safe_dump(data, sort_keys=False)


def policy(*args) -> str:
    out = StringIO()
    call_command("policy", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_show_names_the_active_version_and_prints_its_yaml(db):
    shown = policy("show")
    assert shown.startswith("Active policy: version 1, Default response matrix\nInstalled ")
    assert "by (system)" in shown
    assert DEFAULT_POLICY_PATH.read_text() in shown


def test_install_stores_a_new_active_version_with_who_and_an_audit_event(db, admin_user,
                                                                          tmp_path):
    path = tmp_path / "candidate.yaml"
    path.write_text(praise_monitored())
    before = active_policy().version
    out = policy("install", str(path), "--by", "ada")
    assert f"Installed version {before + 1} ({PRAISE_MONITORED}); it is now active." in out
    row = ResponsePolicy.objects.get(is_active=True)
    assert (row.version, row.name, row.created_by) == (before + 1, PRAISE_MONITORED, admin_user)
    event = Event.objects.filter(verb="policy.installed").last()
    assert (event.actor, event.data) == (admin_user, {"version": before + 1,
                                                      "name": PRAISE_MONITORED,
                                                      "previous": before})
    assert "by ada" in policy("show")
    history = policy("history").splitlines()
    assert history[1].split()[:2] == ["*", str(before + 1)]
    assert history[2].split()[0] == str(before)


def test_activate_rolls_back_to_a_stored_version_and_records_it(db, admin_user, tmp_path):
    path = tmp_path / "candidate.yaml"
    path.write_text(praise_monitored())
    first = active_policy().version
    policy("install", str(path))
    out = policy("activate", str(first), "--by", "ada")
    assert out.strip() == f"Version {first} (Default response matrix) is now active " \
                          f"(was version {first + 1})."
    assert active_policy().version == first
    event = Event.objects.get(verb="policy.activated")
    assert (event.actor, event.data["version"], event.data["previous"]) == \
        (admin_user, first, first + 1)
    assert "is already active" in policy("activate", str(first))
    assert Event.objects.filter(verb="policy.activated").count() == 1


def test_export_then_install_gives_the_same_decisions(db, tmp_path):
    path = tmp_path / "candidate.yaml"
    path.write_text(praise_monitored())
    active_policy()
    policy("install", str(path))
    exported = tmp_path / "exported.yaml"
    policy("export", "-o", str(exported))
    assert exported.read_text() == path.read_text()
    installed = active_policy()
    policy("install", str(exported))
    again = active_policy()
    assert again.version == installed.version + 1
    for category in ("praise", "complaint", "question", "crisis", "spam", "other"):
        for extra in ({}, {"cues": {"legal"}}, {"followers": 50_000}, {"cues": {"churn"}}):
            facts = {"category": category, "sentiment": "neutral", "channel": "x",
                     "visibility": "public", "tier": "", "lang": "en", "cues": set(),
                     "followers": 10, "text": "", **extra}
            facts["severity"], _ = severity_of(installed, facts)
            assert decide(again, facts) == decide(installed, facts)
            if category == "praise":
                assert decide(again, facts)[0].decision == "monitor"
    assert policy("export", "--version", "1") == DEFAULT_POLICY_PATH.read_text()


def test_validate_says_what_a_valid_file_holds(db, tmp_path):
    path = tmp_path / "candidate.yaml"
    path.write_text(praise_monitored())
    assert policy("validate", str(path)).strip() == \
        f"{path}: valid. {PRAISE_MONITORED}: 11 rules, 3 adjustments"


@pytest.mark.parametrize("args, message", [
    (("validate", "missing.yaml"), "missing.yaml: no such file"),
    (("install", "missing.yaml"), "missing.yaml: no such file"),
    (("simulate", "missing.yaml"), "missing.yaml: no such file"),
    (("export", "--version", "7"), "there is no policy version 7 (stored versions: 1)"),
    (("activate", "7"), "there is no policy version 7 (stored versions: 1)"),
    (("install", "{bad}", "--by", "nobody"), "--by: there is no user 'nobody'"),
    (("simulate", "{good}", "--since", "last week"),
     "--since: 'last week' is not a date such as 2026-11-01"),
    (("simulate", "{good}", "--posts", "missing.jsonl"), "missing.jsonl: no such file"),
    (("simulate", "{good}", "--posts", "{good}", "--limit", "5"),
     "--since and --limit select stored posts"),
    (("frobnicate",), "invalid choice: 'frobnicate'"),
])
def test_it_refuses_bad_input_with_a_clear_error(db, tmp_path, args, message):
    good = tmp_path / "good.yaml"
    good.write_text(praise_monitored())
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [")
    active_policy()
    args = [a.format(good=good, bad=bad) for a in args]
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        policy(*args)


def test_an_invalid_policy_is_refused_and_the_active_one_stays(db, tmp_path):
    before = active_policy().version
    path = tmp_path / "bad.yaml"
    path.write_text(praise_monitored().replace("decision: monitor", "decision: ignore", 1))
    with pytest.raises(CommandError, match=r"decision must be one of .*; the active policy is "
                                           r"unchanged"):
        policy("install", str(path))
    assert active_policy().version == before
    assert ResponsePolicy.objects.count() == 1
    assert not Event.objects.filter(verb="policy.installed", data__version=before + 1).exists()


def test_activating_a_stored_version_that_no_longer_loads_is_refused(db):
    before = active_policy().version
    ResponsePolicy.objects.create(version=before + 1, name="broken", source="rules: [")
    with pytest.raises(PolicyError, match="not valid YAML"):
        do_activate_policy(before + 1)
    assert active_policy().version == before


def test_the_command_line_refuses_an_invalid_policy_and_keeps_the_active_one(tmp_path):
    data = tmp_path / "data"
    bad = tmp_path / "bad.yaml"
    bad.write_text(praise_monitored().replace("category: [praise]", "category: [praises]")
                   .replace("- praise\n", "- praises\n"))
    result = socialdesk("policy", "install", str(bad), data_dir=data)
    assert result.returncode == 1
    assert "rule 'positive': when.category: unknown value 'praises'" in result.stderr
    assert "the active policy is unchanged" in result.stderr
    history = socialdesk("policy", "history", data_dir=data)
    assert history.returncode == 0
    assert [line.split()[:2] for line in history.stdout.splitlines()[1:-1]] == [["*", "1"]]


def test_the_command_line_simulates_a_file_as_json(tmp_path):
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(praise_monitored())
    posts = tmp_path / "posts.jsonl"
    posts.write_text("".join(json.dumps(r) + "\n" for r in [
        post("1", "love it, thank you!"), post("2", "my kettle stopped working"),
        {"channel": "x"}]))
    result = socialdesk("policy", "simulate", str(candidate), "--posts", str(posts), "--json",
                        data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert f"{posts}:3: missing field" in result.stderr
    report = json.loads(result.stdout)
    assert (report["posts"], report["changed"], report["rejected"]) == (2, 1, 1)
    assert report["changes"]["decision"] == [{"from": "respond", "to": "monitor", "posts": 1}]
