"""A candidate policy replayed on stored posts (what the policy change alone does) and on a
file of posts (the whole engine under each policy)."""

import json
from datetime import UTC, datetime
from io import BytesIO, StringIO

import pytest
import yaml
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import post
from socialdesk.ingestion.records import read_jsonl
from socialdesk.triage import simulate
from socialdesk.triage.actions import active_policy
from socialdesk.triage.models import Triage
from socialdesk.triage.policy import DEFAULT_POLICY_PATH, parse_policy
from socialdesk.triage.simulate import render, simulate_records, simulate_stored, sla_bucket


def candidate(change) -> str:
    data = yaml.safe_load(DEFAULT_POLICY_PATH.read_text())
    data["name"] = "candidate"
    change(data)
    return yaml.safe_dump(data, sort_keys=False)


def praise_monitored(data):
    positive = next(r for r in data["rules"] if r["name"] == "positive")
    positive.update(decision="monitor", reply_mode="none", severity={1: {"priority": "P4"}})


def email_hidden(data):
    data["rules"].insert(0, {"name": "email-hidden", "when": {"channel": ["email"]},
                             "decision": "hide", "reply_mode": "none", "owner": "moderation",
                             "severity": {1: {"priority": "P4"}}})


PRAISE_MONITORED = parse_policy(candidate(praise_monitored))


def enrichment(external_id, category, **fields):
    """Set what triage stored for a post: the replay must read this, not the text."""
    Triage.objects.filter(post__external_id=external_id).update(
        category=category, labels=[{"category": category, "score": 1.0, "by": "test"}],
        cues=[], **fields)


@pytest.fixture
def stored(feed, teams):
    feed(post("p1", "thanks a lot", at="2026-11-01T09:00:00+00:00"),
         post("p2", "thanks again", at="2026-11-02T09:00:00+00:00"),
         post("p3", "thanks from a big account", at="2026-11-03T09:00:00+00:00",
              author="famous", author_followers=50_000),
         post("c1", "it is broken", at="2026-11-04T09:00:00+00:00"),
         post("q1", "where is it", at="2026-11-05T09:00:00+00:00"))
    for external_id in ("p1", "p2", "p3"):
        enrichment(external_id, "praise", sentiment="positive")
    enrichment("c1", "complaint", sentiment="negative")
    enrichment("q1", "question", sentiment="neutral")
    return active_policy()


def test_it_counts_what_turning_praise_into_monitor_changes_on_stored_posts(stored):
    report = simulate_stored(stored, PRAISE_MONITORED)
    assert (report["posts"], report["changed"]) == (5, 3)
    assert report["changes"] == {
        "decision": [{"from": "respond", "to": "monitor", "posts": 3}],
        "priority": [{"from": "P3", "to": "P4", "posts": 1}],  # the high-reach author, S2
        "reply_mode": [{"from": "public", "to": "none", "posts": 3}],
        "owner": [],
    }
    assert report["queues"] == [{"team": "care", "current": 2, "candidate": 2},
                                {"team": "community", "current": 3, "candidate": 0}]
    assert {(r["team"], r["target"]): (r["current"], r["candidate"]) for r in report["sla"]} == {
        ("care", "≤1h"): (1, 1), ("care", "≤4h"): (1, 1),
        ("community", "≤4h"): (1, 0), ("community", "≤24h"): (2, 0),
    }
    examples = report["examples"]
    assert len(examples) == 3
    assert {e["post"].split()[0] for e in examples} == {"x:p1", "x:p2", "x:p3"}
    first = examples[0]
    assert (first["current"]["decision"], first["candidate"]["decision"]) == ("respond", "monitor")
    assert first["current"]["rule"] == first["candidate"]["rule"] == "positive"
    assert first["text"].startswith("thanks")


def test_a_policy_identical_to_the_active_one_changes_nothing(stored):
    report = simulate_stored(stored, parse_policy(DEFAULT_POLICY_PATH.read_text()))
    assert (report["posts"], report["changed"], report["examples"]) == (5, 0, [])
    assert all(not changes for changes in report["changes"].values())
    assert all(q["current"] == q["candidate"] for q in report["queues"])


def test_it_replays_the_stored_author_context(stored):
    Triage.objects.filter(post__external_id="c1").update(
        author={"repeat_poster": True, "account_owner": "dana"})
    policy = parse_policy(candidate(lambda d: d["rules"].insert(0, {
        "name": "known-repeat-complainers", "when": {"repeat_poster": True,
                                                     "has_account_owner": True},
        "decision": "escalate", "reply_mode": "private", "owner": "account_owner",
        "severity": {1: {"priority": "P1", "first_response": "30m"}}})))
    report = simulate_stored(stored, policy)
    assert report["changed"] == 1
    assert report["changes"]["decision"] == [{"from": "respond", "to": "escalate", "posts": 1}]
    assert report["changes"]["owner"] == [{"from": "care", "to": "account_owner", "posts": 1}]
    assert report["examples"][0]["candidate"]["rule"] == "known-repeat-complainers"


def test_it_replays_only_posts_since_a_day_or_the_most_recent_few(stored):
    since = datetime(2026, 11, 2, tzinfo=UTC)
    assert simulate_stored(stored, PRAISE_MONITORED, since=since)["changed"] == 2
    recent = simulate_stored(stored, PRAISE_MONITORED, limit=3)
    assert (recent["posts"], recent["changed"]) == (3, 1)  # p3, c1, q1


def test_it_reads_stored_posts_a_chunk_at_a_time_not_a_query_per_post(stored, monkeypatch):
    monkeypatch.setattr(simulate, "CHUNK", 2)
    with CaptureQueriesContext(connection) as queries:
        report = simulate_stored(stored, PRAISE_MONITORED)
    assert report["posts"] == 5
    assert len(queries) == 3


def test_it_runs_a_file_through_the_whole_engine_under_each_policy(db):
    records = [r for _, r in read_jsonl(BytesIO(b"".join(
        (json.dumps(p) + "\n").encode() for p in [
            post("e1", "my kettle stopped working", channel="email"),
            post("e2", "love it, thank you!", channel="email"),
            post("e3", "how do I descale it?", channel="email"),
            post("x1", "my kettle stopped working"),
            post("o1", "we are sorry to hear that", direction="outbound"),
        ])), 40_000)]
    current = parse_policy(DEFAULT_POLICY_PATH.read_text())
    report = simulate_records(records, current, parse_policy(candidate(email_hidden)))
    assert (report["posts"], report["changed"], report["source"]) == (4, 3, "file")
    assert sum(c["posts"] for c in report["changes"]["decision"]) == 3
    assert {c["to"] for c in report["changes"]["decision"]} == {"hide"}
    assert {e["candidate"]["rule"] for e in report["examples"]} == {"email-hidden"}
    assert sum(q["candidate"] for q in report["queues"]) == 1  # only the post on x remains


def test_the_report_reads_as_tables(stored):
    text = render(simulate_stored(stored, PRAISE_MONITORED))
    assert "Posts replayed: 5 (stored posts, enrichment as stored)" in text
    assert "Posts whose outcome changes: 3 (60.0%)" in text
    assert any(line.split() == ["respond", "→", "monitor", "3"] for line in text.splitlines())
    assert any(line.split() == ["community", "3", "0", "-3"] for line in text.splitlines())
    assert any(line.split() == ["community", "≤24h", "2", "0", "-2"]
               for line in text.splitlines())
    assert "Owner team: no change" in text


def test_the_simulate_command_replays_stored_posts(stored, tmp_path):
    path = tmp_path / "candidate.yaml"
    path.write_text(candidate(praise_monitored))
    out = StringIO()
    call_command("policy", "simulate", str(path), "--since", "2026-11-03", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert (report["posts"], report["changed"]) == (3, 1)


@pytest.mark.parametrize("minutes, bucket", [
    (None, "none"), (30, "≤30m"), (31, "≤1h"), (60, "≤1h"), (240, "≤4h"), (1440, "≤24h"),
    (2880, ">24h"),
])
def test_first_response_targets_fall_into_staffing_buckets(minutes, bucket):
    assert sla_bucket(minutes) == bucket
