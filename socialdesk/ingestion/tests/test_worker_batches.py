"""A worker takes the posts waiting on its task's channels into its batch
(pipeline.process_with_waiting): on PostgreSQL, under the channels' filing
locks, skipping posts another transaction holds; on SQLite, or with
WORKER_BATCH_SIZE at or below the task's size, a task is its own posts."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from conftest import post
from socialdesk.ingestion.actions import do_store_posts
from socialdesk.ingestion.models import Post
from socialdesk.ingestion.records import check_record
from socialdesk.pipeline import process_with_waiting
from socialdesk.triage.models import Triage

START = datetime(2026, 11, 16, 9, tzinfo=UTC)
postgresql = connection.vendor == "postgresql"
needs_postgresql = pytest.mark.skipif(not postgresql, reason="needs PostgreSQL (row locks, "
                                      "SKIP LOCKED); run with DATABASE_URL=postgres://…")


def queued(channel: str, count: int, prefix: str = "p", stamp: bool = True) -> list[int]:
    """Posts stored as a scale-out request stores them: committed, then stamped queued."""
    records = [check_record(post(f"{prefix}{n}", f"my kettle broke again, order {n}",
                                 channel=channel, author=f"user{n}",
                                 at=(START + timedelta(minutes=n)).isoformat()), 40_000)
               for n in range(count)]
    ids = sorted(do_store_posts(records).created)
    if stamp:
        Post.objects.filter(id__in=ids).update(queued_at=timezone.now())
    return ids


def processed(ids) -> set[int]:
    return set(Post.objects.filter(id__in=ids, processed_at__isnull=False)
               .values_list("id", flat=True))


@pytest.fixture
def worker(teams, settings):
    settings.TRIAGE_PROCESSES = 1
    settings.WORKER_BATCH_SIZE = 1000
    return settings


def test_a_task_brings_the_waiting_posts_of_its_channels_along(db, worker):
    on_x, on_facebook = queued("x", 12), queued("facebook", 5, prefix="f")

    assert process_with_waiting(on_x[:3]) == (12 if postgresql else 3)

    assert processed(on_x) == set(on_x if postgresql else on_x[:3])
    assert processed(on_facebook) == set()  # not a channel of the task
    assert Post.objects.filter(id__in=processed(on_x), case__isnull=True).count() == 0
    # The other tasks find their posts done and do nothing twice.
    assert process_with_waiting(on_x[3:6]) == (0 if postgresql else 3)
    assert Triage.objects.filter(post_id__in=on_x).count() == len(processed(on_x))


@needs_postgresql
def test_it_takes_the_oldest_up_to_the_batch_size(db, worker):
    worker.WORKER_BATCH_SIZE = 7
    ids = queued("x", 20)

    assert process_with_waiting(ids[15:18]) == 7

    assert processed(ids) == set(ids[15:18] + ids[:4])


@needs_postgresql
def test_posts_not_yet_stamped_queued_or_set_aside_are_left_alone(db, worker):
    task = queued("x", 2)
    unstamped = queued("x", 3, prefix="u", stamp=False)
    aside = queued("x", 2, prefix="e")
    Post.objects.filter(id__in=aside).update(process_error="ValueError: broke it")

    assert process_with_waiting(task) == 2

    assert processed(unstamped + aside) == set()


def test_a_worker_batch_size_of_zero_keeps_a_task_to_its_posts(db, worker):
    worker.WORKER_BATCH_SIZE = 0
    ids = queued("x", 6)
    assert process_with_waiting(ids[:2]) == 2
    assert processed(ids) == set(ids[:2])


@needs_postgresql
def test_posts_another_transaction_holds_are_skipped_not_waited_for(transactional_db, worker):
    ids = queued("x", 10)
    held, go_on = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                list(Post.objects.filter(id__in=ids[5:8]).select_for_update()
                     .values_list("id", flat=True))
                held.set()
                go_on.wait(60)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(30)
        assert process_with_waiting(ids[:2]) == 7
        assert processed(ids) == set(ids) - set(ids[5:8])
    finally:
        go_on.set()
        holder.join(60)
    assert process_with_waiting(ids[5:6]) == 3  # released: the next task takes them
    assert processed(ids) == set(ids)
