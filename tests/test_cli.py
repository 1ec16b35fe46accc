"""The socialdesk command as a person runs it: fresh data directory, real processes."""

import json
import os
import subprocess
import sys

from conftest import post, write_jsonl


def socialdesk(*args, data_dir, stdin=None):
    env = {**os.environ, "SOCIALDESK_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    return subprocess.run([sys.executable, "-m", "socialdesk.cli", *args], env=env,
                          capture_output=True, text=True, input=stdin, timeout=120)


def test_help_lists_every_command_with_one_line(tmp_path):
    result = socialdesk("--help", data_dir=tmp_path)
    assert result.returncode == 0
    for verb in ("demo", "serve", "import", "triage", "eval", "worker", "scheduler", "org",
                 "createuser", "token"):
        assert any(line.split()[:1] == [verb] for line in result.stdout.splitlines()), verb


def test_an_unknown_command_fails_clearly(tmp_path):
    result = socialdesk("imprt", data_dir=tmp_path)
    assert result.returncode == 2 and "unknown command 'imprt'" in result.stderr


def test_a_worker_without_a_broker_explains_itself(tmp_path):
    result = socialdesk("worker", data_dir=tmp_path)
    assert result.returncode == 2 and "set CELERY_BROKER_URL" in result.stderr


def test_the_scheduler_without_a_broker_says_the_server_runs_the_clock(tmp_path):
    result = socialdesk("scheduler", data_dir=tmp_path)
    assert result.returncode == 2 and "`socialdesk serve` runs the clock" in result.stderr


def test_import_works_from_a_fresh_data_directory_and_exits_non_zero_on_rejects(tmp_path):
    data = tmp_path / "fresh"
    path = write_jsonl(tmp_path / "in.jsonl", [
        post("1", "my kettle stopped working, really disappointed"),
        {"channel": "x", "external_id": "2"},
    ])
    result = socialdesk("import", str(path), data_dir=data)
    assert (data / "socialdesk.sqlite3").exists()
    assert result.returncode == 1, result.stderr
    assert f"{path}:2: missing field 'author'" in result.stderr
    assert "1 posts imported" in result.stdout

    again = socialdesk("import", str(path), data_dir=data)
    assert "0 posts imported, 1 already there" in again.stdout


def test_triage_needs_no_database_and_keeps_the_contract(tmp_path):
    records = [post("1", "the kettle scalded my son's arm"), post("2", "love it, thank you!"),
               post("3", "how do I descale it?")]
    data = tmp_path / "none"
    result = socialdesk("triage", "-", data_dir=data,
                        stdin="".join(json.dumps(r) + "\n" for r in records))
    assert result.returncode == 0, result.stderr
    assert not (data / "socialdesk.sqlite3").exists()
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["external_id"] for line in lines] == ["1", "2", "3"]
    for line in lines:
        assert list(line) == ["channel", "external_id", "sentiment", "category", "decision",
                              "severity", "priority", "team", "reasons"]
        assert line["sentiment"] in ("negative", "neutral", "positive")
        assert line["decision"] in ("respond", "escalate", "monitor", "let_stand", "hide")
        assert 1 <= line["severity"] <= 3 and line["priority"] in ("P0", "P1", "P2", "P3", "P4")
        assert line["reasons"]
    assert (lines[0]["category"], lines[0]["decision"], lines[0]["team"]) == \
        ("crisis", "escalate", "pr")
    assert lines[1]["category"] == "praise"


def test_demo_sets_up_accounts_and_the_sample(tmp_path):
    result = socialdesk("demo", "--no-serve", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "http://127.0.0.1:8000/" in result.stdout
    assert "admin  password: " in result.stdout and "agent  password: " in result.stdout
    assert "391 posts imported" in result.stdout


def test_the_worker_takes_its_broker_from_the_desks_setting_not_celerys_generic_variable(
        tmp_path):
    # Celery's command line reads BROKER_URL (and APP, …) by itself; a worker must use the
    # broker every other process of the desk queues on. Neither port needs to answer:
    # the worker names its transport before it connects.
    env = {**os.environ, "SOCIALDESK_DATA_DIR": str(tmp_path),
           "CELERY_BROKER_URL": "redis://127.0.0.1:9/0", "BROKER_URL": "redis://127.0.0.1:7/0",
           "APP": "no.such.module"}
    env.pop("DATABASE_URL", None)
    worker = subprocess.Popen([sys.executable, "-m", "socialdesk.cli", "worker", "--pool=solo"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        transport = next((line for line in worker.stdout if "transport:" in line), "")
    finally:
        worker.kill()
        worker.wait(timeout=30)
    assert "127.0.0.1:9/0" in transport, transport
