"""The scale-out mode when the broker is down, or up but silent: every call returns in
bounded time, nothing stored is lost, the API says 503 (JSON, with Retry-After) and
/healthz says which dependency is down; once the broker is back, the sweeper queues
what waited. Runs on either database; the last tests need a real Redis server
(127.0.0.1:6379, or CI_BROKER_URL), and are skipped without one except in CI.
"""

import os
import socket
import threading
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from conftest import post, write_jsonl
from socialdesk.cases.actions import do_submit_reply
from socialdesk.cases.models import Reply
from socialdesk.cases.tests.cases_helpers import make_case
from socialdesk.celery import app
from socialdesk.ingestion.models import Post
from socialdesk.ingestion.records import check_record
from socialdesk.lib import queue
from socialdesk.pipeline import QueueUnavailable, ingest, sweep_posts

COMPLAINT = "my kettle stopped working after a week, really disappointed"
REDIS_URL = os.environ.get("CI_BROKER_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def silent_broker():
    """A server that accepts connections and never answers a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held, stop = [], threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{s.getsockname()[1]}/0"


@pytest.fixture
def broker(settings):
    """Switch this process to the scale-out mode with the given broker URL."""
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager",
                                            "task_default_queue", "broker_transport_options",
                                            "broker_connection_timeout")}

    def use(url: str):
        settings.SCALE_OUT = True
        settings.BROKER_TIMEOUT_SECONDS = 1
        settings.CELERY_TASK_DEFAULT_QUEUE = f"test-{uuid.uuid4().hex[:8]}"
        app.conf.update(broker_url=url, task_always_eager=False,
                        task_default_queue=settings.CELERY_TASK_DEFAULT_QUEUE,
                        broker_connection_timeout=1,
                        broker_transport_options={**saved["broker_transport_options"],
                                                  "socket_timeout": 1,
                                                  "socket_connect_timeout": 1})
        _reset_pools()

    yield use
    if queue_reachable(app.conf.broker_url):
        # What the tests queued for no worker goes, so the next run starts clean.
        with app.connection_for_write() as connection:
            connection.default_channel.queue_purge(app.conf.task_default_queue)
    app.conf.update(saved)
    _reset_pools()


def _reset_pools():
    app._pool = None
    app.amqp._producer_pool = None


def finishes(func, seconds=60):
    """Run func in a thread; whether it returned (or raised) within `seconds`. Not a
    timing check: a call that waits on a silent broker forever fails it."""
    outcome = {}

    def run():
        try:
            outcome["value"] = func()
        except BaseException as e:  # noqa: BLE001 - handed back to the test
            outcome["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    return not thread.is_alive(), outcome


@pytest.mark.parametrize("kind", ["refusing", "silent"])
def test_a_batch_is_stored_and_reported_unqueued_when_the_broker_is_down(
        transactional_db, teams, broker, silent_broker, kind):
    broker(closed_port() if kind == "refusing" else silent_broker)

    done, outcome = finishes(lambda: ingest([check_record(post("1", COMPLAINT), 40_000)]))

    assert done, "ingest waited on the broker without a timeout"
    error = outcome.get("error")
    assert isinstance(error, QueueUnavailable), outcome
    assert len(error.result.created) == 1 and error.retry_after >= 1
    stored = Post.objects.get()
    assert (stored.processed_at, stored.queued_at) == (None, None)


def test_the_api_answers_503_in_json_and_the_retry_is_not_lost(
        transactional_db, teams, broker, client, api_token):
    broker(closed_port())
    body = {"records": [post("1", COMPLAINT), {**post("2", "hi"), "created_at": "never"}]}
    headers = {"HTTP_AUTHORIZATION": f"Bearer {api_token}"}

    response = client.post("/api/v1/posts", body, content_type="application/json", **headers)

    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/json")
    assert int(response["Retry-After"]) >= 1
    statuses = [r["status"] for r in sorted(response.json()["results"], key=lambda r: r["index"])]
    assert statuses == ["created", "rejected"]
    assert Post.objects.get().queued_at is None


def test_healthz_says_the_broker_is_down_and_live_still_answers(
        transactional_db, broker, silent_broker, client):
    broker(silent_broker)
    done, outcome = finishes(lambda: client.get("/healthz"))
    assert done
    response = outcome["value"]
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == "ok" and checks["broker"] != "ok"
    assert client.get("/healthz/live").status_code == 200


def test_a_reply_queued_while_the_broker_is_down_stays_queued_for_the_sweeper(
        transactional_db, teams, agent, broker):
    broker(closed_port())
    case = make_case(teams["care"], assignee=agent)

    reply = do_submit_reply(case, agent, "Sorry to hear that, we've sent you a DM.", "public")

    assert Reply.objects.get(pk=reply.pk).status == Reply.Status.QUEUED


def test_the_import_command_says_what_was_stored_but_not_queued(
        transactional_db, teams, broker, tmp_path, capsys):
    broker(closed_port())
    path = write_jsonl(tmp_path / "p.jsonl", [post(str(n), COMPLAINT) for n in range(3)])

    with pytest.raises(CommandError, match="every post is stored"):
        call_command("import_posts", str(path), "--quiet")

    captured = capsys.readouterr()
    assert "3 posts imported" in captured.out and "0 posts queued for the workers" in captured.out
    assert "3 posts are stored but not queued: the broker is unreachable" in captured.err
    assert "earlier run" not in captured.out
    assert Post.objects.filter(queued_at__isnull=True).count() == 3


def redis_or_skip():
    if queue_reachable(REDIS_URL):
        return REDIS_URL
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI: Redis at {REDIS_URL} is unreachable")
    pytest.skip(f"needs a Redis server at {REDIS_URL}")


def queue_reachable(url: str) -> bool:
    host, port = url.split("//")[1].split("/")[0].split(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        return False
    return True


def test_once_the_broker_is_back_the_sweeper_queues_what_waited(
        transactional_db, teams, broker, settings):
    url = redis_or_skip()
    broker(closed_port())
    with pytest.raises(QueueUnavailable):
        ingest([check_record(post(str(n), COMPLAINT), 40_000) for n in range(3)])

    broker(url)
    Post.objects.update(ingested_at=timezone.now() - timedelta(
        seconds=settings.SWEEP_GRACE_SECONDS + 1))
    sweep = sweep_posts()

    assert (sweep.found, sweep.handled, sweep.unqueued) == (3, 3, 0)
    assert not Post.objects.filter(queued_at__isnull=True).exists()
    assert queue.queue_length() == 1  # one batch, waiting for a worker
    assert sweep_posts().found == 0, "queued posts are not queued twice"


def test_a_client_resending_an_unqueued_batch_gets_it_queued(transactional_db, teams, broker):
    url = redis_or_skip()
    broker(closed_port())
    records = [check_record(post(str(n), COMPLAINT), 40_000) for n in range(2)]
    with pytest.raises(QueueUnavailable):
        ingest(records)

    broker(url)
    result = ingest(records)

    assert (len(result.created), result.duplicates, len(result.waiting)) == (0, 2, 2)
    assert not Post.objects.filter(queued_at__isnull=True).exists()
    assert queue.queue_length() == 1
