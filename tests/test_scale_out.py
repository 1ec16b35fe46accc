"""The scale-out mode for real: PostgreSQL, a Redis broker and a Celery worker process.

Runs when DATABASE_URL points at PostgreSQL and CELERY_BROKER_URL is set (the
second pass of .ci/run); skipped otherwise, saying why.
"""

import json
import os
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection

from conftest import post
from socialdesk.accounts.actions import do_ensure_teams
from socialdesk.accounts.models import User
from socialdesk.cases.actions import do_queue_reply
from socialdesk.cases.models import Case, Reply
from socialdesk.celery import app
from socialdesk.ingestion.models import Post
from socialdesk.ingestion.records import check_record
from socialdesk.pipeline import ingest

CONFIGURED = settings.SCALE_OUT and settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
if os.environ.get("REQUIRE_SCALE_OUT") and not CONFIGURED:
    raise RuntimeError("REQUIRE_SCALE_OUT is set but DATABASE_URL / CELERY_BROKER_URL are not")
pytestmark = pytest.mark.skipif(
    not CONFIGURED,
    reason="scale-out pass only: set DATABASE_URL=postgres://… and CELERY_BROKER_URL=redis://…",
)


@pytest.fixture
def worker(transactional_db, tmp_path, settings):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    db = settings.DATABASES["default"]
    url = (f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
           f"{db['PORT'] or 5432}/{connection.settings_dict['NAME']}")
    settings.OUTBOX_DIR = tmp_path / "outbox"
    env = {**os.environ, "DATABASE_URL": url, "CELERY_QUEUE": queue,
           "OUTBOX_DIR": str(settings.OUTBOX_DIR), "SOCIALDESK_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "socialdesk.cli", "worker", "--pool=solo", "--without-gossip",
         "--without-mingle", "--without-heartbeat"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    app.conf.task_default_queue = "socialdesk"


def wait_for(check, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_a_worker_triages_files_and_delivers(worker, tmp_path):
    do_ensure_teams({"care", "pr"})
    agent = User.objects.create_user("wanda", password="a long test password 1")
    records = [post("1", "my kettle stopped working after a week, really disappointed"),
               post("2", "any news? still broken", in_reply_to="1",
                    at="2026-11-16T10:00:00+00:00"),
               post("3", "the handle snapped and scalded my son's arm", author="rob")]
    result = ingest([check_record(r, 40_000) for r in records])
    assert len(result.created) == 3

    processed = wait_for(lambda: not Post.objects.filter(processed_at__isnull=True).exists())
    assert processed, worker.stdout.read() if worker.poll() is not None else "worker too slow"
    assert Case.objects.count() == 2
    crisis = Case.objects.get(category="crisis")
    assert (crisis.team.slug, crisis.priority, crisis.decision) == ("pr", "P0", "escalate")

    complaint = Case.objects.get(category="complaint")
    reply = do_queue_reply(complaint, agent, "Sorry! We've sent you a DM.", "public")
    assert wait_for(lambda: Reply.objects.get(pk=reply.pk).status == Reply.Status.SENT)
    line = json.loads((tmp_path / "outbox" / "x.jsonl").read_text().splitlines()[0])
    assert (line["in_reply_to"], line["case_ref"]) == ("2", complaint.ref)
