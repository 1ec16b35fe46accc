"""The triage output contract (docs/TRIAGE.md, "The output contract").

`socialdesk triage FILE` and `POST /api/v1/triage` answer each post with one
object of exactly the documented keys, in input order. The models behind the
values are being retrained, so these tests pin shapes and value sets, never
what a model decides about a post.
"""

import csv
import io
import json
import os
import subprocess
import sys

import pytest
from django.db import connections

from conftest import post
from socialdesk import cli
from socialdesk.demo.setup import SAMPLE, TEAMS

KEYS = ["channel", "external_id", "sentiment", "category", "decision", "severity", "priority",
        "team", "reasons"]
SENTIMENTS = {"negative", "neutral", "positive"}
CATEGORIES = {"complaint", "question", "praise", "suggestion", "misinformation", "rant", "abuse",
              "spam", "crisis", "other"}
DECISIONS = {"respond", "escalate", "monitor", "let_stand", "hide"}
PRIORITIES = {"P0", "P1", "P2", "P3", "P4"}

# Posts of every kind the desk meets, so that every rule has a chance to answer.
RECORDS = [
    post("1", "The handle snapped and the water scalded my son's arm. We're in A&E."),
    post("2", "My lawyer will be in touch. Charged twice and still no refund."),
    post("3", "Love my new toaster, best breakfast ever!", channel="instagram"),
    post("4", "How do I descale the coffee machine?", channel="facebook"),
    post("5", "Earn $500 a day with crypto, click here http://spam.example"),
    post("6", "You are all incompetent clowns"),
    post("7", "is the app down? can't log in", channel="reddit"),
    post("8", "Cancelling my subscription, switching to Kettlecraft."),
    post("9", "call me on 07700 900123 about order BK-104233", visibility="private"),
    post("10", "Meine Bohnenlieferung ist seit einer Woche überfällig.", lang="de"),
    post("11", "I'm a journalist writing a piece on duplicate charges", channel="email"),
    post("12", "Would be great if the app let me pause my subscription"),
    post("13", "lol the new ad 😂", author_followers=250_000),
    post("14", "."),
]


def assert_follows_the_contract(line: dict) -> None:
    assert list(line) == KEYS
    assert isinstance(line["channel"], str) and isinstance(line["external_id"], str)
    assert line["sentiment"] in SENTIMENTS
    assert line["category"] in CATEGORIES
    assert line["decision"] in DECISIONS
    assert type(line["severity"]) is int and line["severity"] in (1, 2, 3)
    assert line["priority"] in PRIORITIES
    assert line["team"] in TEAMS
    assert isinstance(line["reasons"], list) and line["reasons"]
    assert all(isinstance(reason, str) and reason.strip() for reason in line["reasons"])


def jsonl(records: list) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


@pytest.fixture
def triage(capsys, monkeypatch):
    """Run `socialdesk triage ARGS` as the console script does: (exit code, out, err)."""

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
        # A command run from the command line closes every database connection
        # when it ends; the test's own connection holds its transaction.
        monkeypatch.setattr(connections, "close_all", lambda: None)
        try:
            code = cli.main(["triage", *args])
        except SystemExit as e:
            code = e.code
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


# --------------------------------------------------------------------------
# socialdesk triage FILE
# --------------------------------------------------------------------------

def test_the_command_answers_each_post_once_in_input_order_with_the_documented_keys(
        triage, tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text(jsonl(RECORDS))
    code, out, err = triage(str(path))
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(line["channel"], line["external_id"]) for line in lines] == \
        [(r["channel"], r["external_id"]) for r in RECORDS]
    for line in lines:
        assert_follows_the_contract(line)


def test_the_command_reads_standard_input_and_csv_the_same_way(triage, tmp_path):
    code, from_stdin, err = triage("-", stdin=jsonl(RECORDS[:3]))
    assert code == 0, err
    path = tmp_path / "posts.jsonl"
    path.write_text(jsonl(RECORDS[:3]))
    assert triage(str(path))[1] == from_stdin

    table = tmp_path / "posts.csv"
    with table.open("w", newline="") as f:
        writer = csv.DictWriter(f, ["channel", "external_id", "author", "text", "created_at"])
        writer.writeheader()
        writer.writerows(RECORDS[:3])
    code, from_csv, err = triage(str(table))
    assert code == 0, err
    assert from_csv == from_stdin


def test_the_command_reports_bad_records_by_file_and_line_and_exits_non_zero(triage, tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text(jsonl([RECORDS[0], "not json at all", {"channel": "x", "external_id": "2"},
                           RECORDS[2], {**RECORDS[3], "created_at": "yesterday-ish"}]))
    code, out, err = triage(str(path))
    assert code not in (0, None)
    assert [json.loads(line)["external_id"] for line in out.splitlines()] == ["1", "3"]
    for line in out.splitlines():
        assert_follows_the_contract(json.loads(line))
    reported = [line for line in err.splitlines() if line.startswith(f"{path}:")]
    assert [line.split(":")[1] for line in reported] == ["2", "3", "5"]
    assert "missing field 'author'" in reported[1]
    assert "3 records were rejected" in err


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_an_empty_file_gives_no_output_and_exit_zero(triage, tmp_path, content):
    path = tmp_path / "empty.jsonl"
    path.write_text(content)
    assert triage(str(path)) == (0, "", "")


def test_a_missing_file_is_an_error_that_names_it(triage, tmp_path):
    code, out, err = triage(str(tmp_path / "nowhere.jsonl"))
    assert code not in (0, None) and out == ""
    assert "nowhere.jsonl: no such file" in err


def test_the_bundled_sample_triages_the_same_way_every_time(tmp_path):
    # Two separate processes with different hash seeds: any answer that hangs
    # on set or dict order, or on state left over in a process, shows up here.
    def run(seed: str) -> str:
        env = {**os.environ, "SOCIALDESK_DATA_DIR": str(tmp_path), "PYTHONHASHSEED": seed}
        env.pop("DATABASE_URL", None)
        result = subprocess.run([sys.executable, "-m", "socialdesk.cli", "triage", str(SAMPLE)],
                                env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        return result.stdout

    first, second = run("1"), run("2")
    assert first == second
    records = [json.loads(line) for line in SAMPLE.read_text().splitlines()]
    lines = [json.loads(line) for line in first.splitlines()]
    assert [(line["channel"], line["external_id"]) for line in lines] == \
        [(r["channel"], r["external_id"]) for r in records]
    for line in lines:
        assert_follows_the_contract(line)


# --------------------------------------------------------------------------
# POST /api/v1/triage
# --------------------------------------------------------------------------

def api_triage(client, token: str, records: list) -> list[dict]:
    response = client.post("/api/v1/triage", {"records": records},
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_the_api_answers_each_record_once_in_input_order(client, api_token):
    bad = [{"channel": "x", "external_id": "b1"}, {**RECORDS[1], "created_at": "soon"},
           {"text": "no channel, no id"}]
    records = [RECORDS[0], bad[0], *RECORDS[1:5], bad[1], *RECORDS[5:], bad[2]]
    results = api_triage(client, api_token, records)
    assert len(results) == len(records)
    for index, (record, result) in enumerate(zip(records, results, strict=True)):
        if any(record is b for b in bad):
            assert list(result) == ["index", "external_id", "status", "error"]
            assert (result["index"], result["status"]) == (index, "rejected")
            assert result["error"]
        else:
            assert_follows_the_contract(result)
            assert (result["channel"], result["external_id"]) == \
                (record["channel"], record["external_id"])
    assert results[1]["external_id"] == "b1" and results[-1]["external_id"] is None


def test_the_api_gives_what_the_command_gives(client, api_token, triage, tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text(jsonl(RECORDS))
    from_command = [json.loads(line) for line in triage(str(path))[1].splitlines()]
    assert api_triage(client, api_token, RECORDS) == from_command


def test_an_empty_batch_gives_no_results(client, api_token):
    assert api_triage(client, api_token, []) == []


def test_the_api_rejects_a_record_that_is_not_an_object_and_triages_the_rest(client, api_token):
    response = client.post("/api/v1/triage", {"records": [RECORDS[0], "not a post"]},
                           content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {api_token}")
    assert response.status_code == 200
    first, second = response.json()["results"]
    assert first["external_id"] == RECORDS[0]["external_id"] and "decision" in first
    assert (second["index"], second["status"]) == (1, "rejected")
    assert "must be a JSON object" in second["error"]
