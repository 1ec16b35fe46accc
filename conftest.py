"""Fixtures shared by every test: people, teams, and a way to feed the pipeline."""

import json
import os
from importlib import import_module

import pytest
from django.db import connection

from socialdesk.accounts.actions import do_create_api_token, do_ensure_teams
from socialdesk.accounts.models import User
from socialdesk.ingestion.records import check_record
from socialdesk.pipeline import ingest

# The tests pin the fast tier: they check rules against its committed model's
# scores, and the accurate tier would cost every test process its ONNX session.
# The default tier, the cascade, has its own tests (triage/tests/test_default_tier.py).
os.environ.setdefault("TRIAGE_TIER", "fast")

# The audit log's SQLite triggers, by name (socialdesk/audit/migrations/0003).
SQLITE_TRIGGERS = [(statement.split()[2], statement) for statement in
                   import_module("socialdesk.audit.migrations.0003_append_only_triggers").SQLITE]


@pytest.fixture
def transactional_db(transactional_db):
    """The database without a wrapping transaction, emptied after the test. SQLite
    empties tables with DELETE, which the audit log's triggers refuse: its rows go
    first, with the triggers lifted for that statement alone (PostgreSQL truncates,
    which they do not stop)."""
    yield transactional_db
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for name, _ in SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute("DELETE FROM audit_event")
            for _, statement in SQLITE_TRIGGERS:
                cursor.execute(statement)


@pytest.fixture(autouse=True)
def outbox(settings, tmp_path):
    settings.OUTBOX_DIR = tmp_path / "outbox"
    return settings.OUTBOX_DIR


@pytest.fixture
def teams(db):
    return do_ensure_teams({"care", "pr", "legal", "community", "comms", "moderation"})


def make_user(username, role=User.Role.AGENT, teams=()):
    user = User.objects.create_user(username=username, password="a long test password 1",
                                    role=role)
    user.teams.set(teams)
    return user


@pytest.fixture
def agent(teams):
    return make_user("alice", teams=[teams["care"]])


@pytest.fixture
def teammate(teams):
    return make_user("bob", teams=[teams["care"]])


@pytest.fixture
def outsider(teams):
    """An agent of another team: must never see care's cases."""
    return make_user("mallory", teams=[teams["comms"]])


@pytest.fixture
def supervisor(teams):
    return make_user("sam", role=User.Role.SUPERVISOR, teams=[teams["care"]])


@pytest.fixture
def admin_user(teams):
    user = make_user("ada", role=User.Role.ADMIN)
    user.is_staff = user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def api_token(agent):
    return do_create_api_token(agent, "tests")[1]


def post(external_id, text, channel="x", author="carol", at="2026-11-16T09:00:00+00:00",
         **extra):
    return {"channel": channel, "external_id": external_id, "author": author, "text": text,
            "created_at": at, **extra}


@pytest.fixture
def feed(db):
    """Run records (dicts in the import schema) through the whole pipeline."""

    def run(*records):
        return ingest([check_record(r, 40_000) for r in records])

    return run


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


# For modules whose tests start desks of their own on SQLite files in subprocesses,
# whatever database the suite runs on: run once, in the SQLite pass, not again in
# the PostgreSQL one, where they would repeat the very same thing.
own_desks_only_once = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://", "pgsql://")),
    reason="starts its own SQLite desks: runs in the SQLite pass")
