"""The flow of a post: store → enrich and triage → route → case.

Each stage is a function over a batch. `process_posts` is a Celery task: on
workers in the scale-out mode, in-process (eager) in the embedded mode, the
same code either way. It is idempotent: posts already processed are skipped.
"""

import logging
import threading
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.db.models import Q
from django.utils import timezone

from socialdesk.cases.filing import do_file_posts
from socialdesk.contacts.actions import do_refresh_contacts
from socialdesk.contacts.queries import author_context
from socialdesk.ingestion.actions import (
    IngestResult,
    claim_waiting,
    do_store_posts,
    link_parents,
    lock_filing,
)
from socialdesk.ingestion.models import Post
from socialdesk.ingestion.queries import post_rows, queued_long_ago, unprocessed_posts
from socialdesk.ingestion.records import Record
from socialdesk.lib import queue
from socialdesk.lib.bulk import bulk_update_fields
from socialdesk.routing.actions import active_rules
from socialdesk.routing.rules import Route, RuleSet, route
from socialdesk.triage.actions import active_policy, do_store_triage, post_input
from socialdesk.triage.engine import PostInput, TopicMatcher, TriageResult, triage_batch
from socialdesk.triage.policy import Policy, approval_needed
from socialdesk.triage.queries import active_topics
from socialdesk.triage.spikes import do_add_counts, mark_spikes
from socialdesk.triage.spread import triage_in_background, triage_spread

logger = logging.getLogger(__name__)


def decide(inputs: list[PostInput], policy: Policy, ruleset: RuleSet,
           topics: TopicMatcher | None = None) -> list[tuple[TriageResult, Route]]:
    """Enrich, triage and route, with no database: shared by the desk and `socialdesk triage`."""
    results = triage_spread(inputs, policy, settings.TRIAGE_PROCESSES, topics)
    return [(result, route_triaged(post, result, ruleset))
            for post, result in zip(inputs, results, strict=True)]


def route_triaged(post: PostInput, result: TriageResult, ruleset: RuleSet) -> Route:
    """The team for a triaged post; the routing reason joins the triage's reasons."""
    return route_facts(result, result.facts(post), ruleset)


def route_facts(result: TriageResult, facts: dict, ruleset: RuleSet) -> Route:
    chosen = route(ruleset, facts)
    result.reasons.append(chosen.reason)
    return chosen


def record_input(record: Record) -> PostInput:
    return PostInput(record.channel, record.external_id, record.text, record.visibility,
                     record.author_followers, record.lang, account=record.account)


def contract(result: TriageResult, chosen: Route) -> dict:
    """The triage output contract (docs/TRIAGE.md); keep it stable."""
    return {
        "channel": result.channel, "external_id": result.external_id,
        "sentiment": result.sentiment, "category": result.category,
        "decision": result.outcome.decision, "severity": result.severity,
        "priority": result.outcome.priority, "team": chosen.team, "reasons": result.reasons,
    }


class QueueUnavailable(Exception):
    """The batch is stored (committed) but could not be queued for the workers.

    Nothing is lost: the sweeper queues stored posts that wait unprocessed, and
    a client that sends the batch again has its unprocessed posts queued.
    `result` says what this call stored; `retry_after` is a hint in seconds.
    """

    def __init__(self, result: IngestResult, retry_after: int, reason: str):
        super().__init__(f"stored, but the queue is unavailable: {reason}")
        self.result = result
        self.retry_after = retry_after


# Embedded: the web server's threads store and process their batches one at a
# time. SQLite lets one writer in while the others poll for its lock with growing
# sleeps, so under concurrent requests some waited many turns longer than their
# share (a request p99 of seconds against a p50 of a fraction of one); this lock
# hands the turn on the moment it is free.
_one_writer = threading.Lock()


def ingest(records: list[Record], source: str = "import") -> IngestResult:
    """Store a batch, then process what was new (after commit, on a worker if any).

    Raises QueueUnavailable, after storing, when the workers could not be told."""
    ingestor = Ingestor(source)
    with nullcontext() if settings.SCALE_OUT else _one_writer:
        result = ingestor.add(records)
        ingestor.close()
    if ingestor.unqueued:
        raise QueueUnavailable(result, settings.SWEEP_GRACE_SECONDS, ingestor.broker_error)
    return result


class Ingestor:
    """Store and process batch after batch.

    Scale-out: each stored batch is queued for the workers once committed, and
    stamped as queued once the broker took it. Embedded: batches are processed
    here, and with helper processes (TRIAGE_PROCESSES > 1) the next batch is
    triaged in the background while this process writes the previous one, so
    both cores stay busy. Either way, a post that breaks processing is set aside
    with its error and the rest of its batch goes on (`process_isolated`).
    """

    def __init__(self, source: str = "import"):
        self.source = source
        self.pending: Pending | None = None
        self.overlap = not settings.SCALE_OUT and settings.TRIAGE_PROCESSES > 1
        self.queued = 0
        # Scale-out: posts stored but not queued, the broker being unreachable.
        # After the first refusal the rest of the run does not wait on it again.
        self.unqueued: list[int] = []
        self.broker_error = ""
        # Embedded: posts set aside because processing failed on them alone.
        self.failed: list[int] = []

    def add(self, records: list[Record]) -> IngestResult:
        result = do_store_posts(records, source=self.source)
        # Stored earlier and never processed (a crash, a lost message): a client
        # that sends them again gets them processed.
        self.process(result.created + result.adopted + result.waiting)
        return result

    def process(self, ids: list[int]) -> None:
        """Process stored posts, a batch at a time, in whichever mode is configured."""
        size = settings.PIPELINE_BATCH_SIZE
        for start in range(0, len(ids), size):
            batch = ids[start:start + size]
            if settings.SCALE_OUT:
                # Workers must see the stored rows: enqueue once they are committed.
                transaction.on_commit(lambda batch=batch: self.enqueue(batch))
            elif self.overlap:
                try:
                    started = start_processing(batch, background=True)
                except DATABASE_DOWN:
                    raise
                except Exception:
                    self.close()
                    process_isolated(batch, self.failed)
                    continue
                self.close()
                self.pending = started
            else:
                process_isolated(batch, self.failed)

    def enqueue(self, batch: list[int]) -> None:
        if self.unqueued:
            self.unqueued.extend(batch)
            return
        if not queue.enqueue(process_posts, batch):
            self.broker_error = "the broker did not take the task (see the log)"
            self.unqueued.extend(batch)
            return
        Post.objects.filter(id__in=batch).update(queued_at=timezone.now())
        self.queued += len(batch)

    def close(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            try:
                finish_processing(pending)
            except DATABASE_DOWN:
                raise
            except Exception:
                process_isolated(pending.post_ids, self.failed)


@dataclass
class Pending:
    """A batch whose triage has started and whose results are not yet written."""

    post_ids: list[int]
    inputs: dict[int, PostInput]
    results: Callable[[], list[TriageResult]]
    policy: Policy
    topics: TopicMatcher | None = None
    # Per post id: what was known of the author (contacts.queries.author_context).
    authors: dict[int, dict] = field(default_factory=dict)


def start_processing(post_ids: list[int], background: bool = False) -> Pending:
    rows = post_rows(post_ids)
    inbound = [p for p in rows
               if p.processed_at is None and p.direction == Post.Direction.INBOUND]
    authors = author_context(inbound)
    inputs = {p.id: post_input(p, authors[p.id]) for p in inbound}
    policy, topics = active_policy(), active_topics()
    if background:
        results = triage_in_background(list(inputs.values()), policy, settings.TRIAGE_PROCESSES,
                                       topics)
    else:
        done = triage_spread(list(inputs.values()), policy, settings.TRIAGE_PROCESSES, topics)
        results = lambda: done  # noqa: E731
    return Pending(post_ids, inputs, results, policy, topics, authors)


def finish_processing(pending: Pending) -> int:
    """Route, store triage and file the batch; returns how many posts were new to it."""
    with transaction.atomic():
        # One filing at a time per channel: threads and cases are decided from
        # what earlier filings committed (cases.filing).
        lock_filing(pending.post_ids)
        rows = post_rows(pending.post_ids, lock=True)
        fresh = [p for p in rows if p.processed_at is None]
        # Posts processed before and in no case, sent again: filed again, in
        # case their thread is known by now.
        adopted = [p for p in rows if p.processed_at is not None and p.case_id is None]
        if not fresh and not adopted:
            return 0
        link_parents(fresh + adopted)
        triaged = dict(zip(pending.inputs, pending.results(), strict=True))
        inbound = [p for p in fresh if p.direction == Post.Direction.INBOUND]
        missed = [p for p in inbound if p.id not in triaged]
        if missed:  # stored after the batch started: triage them now
            pending.authors.update(author_context(missed))
            late = {p.id: post_input(p, pending.authors[p.id]) for p in missed}
            pending.inputs.update(late)
            triaged.update(zip(late, triage_batch(list(late.values()), pending.policy,
                                                  pending.topics), strict=True))
        ruleset = active_rules()
        triages = {p.id: triaged[p.id] for p in inbound}
        for post_id, result in triages.items():
            result.author = pending.authors[post_id]
        # Posts on a subject that is spiking become S3 before routing and filing
        # read their outcome; the batch's counts are stored last (see spikes.py).
        volume = mark_spikes([(pending.inputs[p.id], triages[p.id], p.created_at)
                              for p in inbound], pending.policy)
        routes, approvals = {}, {}
        for p in inbound:
            facts = triages[p.id].facts(pending.inputs[p.id])
            routes[p.id] = route_facts(triages[p.id], facts, ruleset)
            approvals[p.id] = approval_needed(pending.policy, facts)
        do_store_triage(inbound, list(triages.values()))
        ordered = sorted(fresh + adopted, key=lambda p: (p.created_at, p.id))
        do_file_posts(ordered, triages, routes, approvals)
        now = timezone.now()
        for post in fresh:
            post.processed_at = now
        bulk_update_fields(ordered, ["parent", "case", "processed_at"], model=Post)
        # Fingerprints for merge suggestions, and the authors' tags, from the stored triage.
        do_refresh_contacts([p.id for p in fresh])
        do_add_counts(volume)
    return len(fresh)


# A database that cannot be reached fails every post alike: the batch is left
# for a retry, not taken apart post by post.
DATABASE_DOWN = (OperationalError, InterfaceError)


def process_isolated(post_ids: list[int], failed: list[int] | None = None) -> int:
    """Process a batch; when it fails, its halves, down to the post that fails
    alone, which keeps its error (Post.process_error), is added to `failed` and is
    left out of later sweeps. Returns how many posts were processed."""
    try:
        return finish_processing(start_processing(post_ids))
    except DATABASE_DOWN:
        raise
    except Exception as e:
        if len(post_ids) == 1:
            logger.exception("post %s could not be processed; set aside", post_ids[0])
            Post.objects.filter(id=post_ids[0], processed_at__isnull=True).update(
                process_error=f"{type(e).__name__}: {e}"[:2000])
            if failed is not None:
                failed.append(post_ids[0])
            return 0
        middle = len(post_ids) // 2
        return (process_isolated(post_ids[:middle], failed)
                + process_isolated(post_ids[middle:], failed))


def waiting_posts(now: datetime | None = None, grace: timedelta | None = None):
    """Stored posts that wait unprocessed with nothing on the way to process them.

    Embedded: every post stored more than `grace` ago (an import or request that
    died after its commit). Scale-out: posts never queued that long after they
    were stored, and, once the queue has drained, posts queued longer ago than a
    worker may hold a task (their message was lost with a worker or the broker).
    Posts set aside with an error are left out.
    """
    now = now or timezone.now()
    if grace is None:
        grace = timedelta(seconds=settings.SWEEP_GRACE_SECONDS)
    posts = unprocessed_posts()
    if not settings.SCALE_OUT:
        return posts.filter(ingested_at__lt=now - grace)
    lost = Q(queued_at__isnull=True, ingested_at__lt=now - grace)
    if queue.queue_length() == 0:
        lost |= queued_long_ago(now)
    return posts.filter(lost)


@dataclass
class SweepReport:
    found: int = 0
    # Processed here (embedded) or queued for the workers (scale-out).
    handled: int = 0
    unqueued: int = 0


def sweep_posts(now: datetime | None = None, grace: timedelta | None = None,
                limit: int | None = None) -> SweepReport:
    """Process (embedded) or queue (scale-out) the posts `waiting_posts` finds, at
    most `limit` of them (the clock's sweep takes a few batches a tick)."""
    ids = list(waiting_posts(now, grace).order_by("id").values_list("id", flat=True)[:limit])
    report = SweepReport(found=len(ids))
    if not ids:
        return report
    ingestor = Ingestor("sweep")
    ingestor.process(ids)
    ingestor.close()
    report.unqueued = len(ingestor.unqueued)
    report.handled = ingestor.queued if settings.SCALE_OUT else len(ids)
    if report.handled:
        logger.warning("%s stored posts were waiting unprocessed: %s", report.handled,
                       "queued again" if settings.SCALE_OUT else "processed")
    return report


def do_retry_failed() -> int:
    """Give the posts set aside with an error another try; returns how many."""
    return Post.objects.filter(processed_at__isnull=True).exclude(process_error="").update(
        process_error="", queued_at=None)


@shared_task(name="pipeline.process_posts", acks_late=True, bind=True,
             autoretry_for=DATABASE_DOWN, retry_backoff=2, retry_backoff_max=60, max_retries=5)
def process_posts(self, post_ids: list[int]) -> int:
    """Triage, route and file the given posts; returns how many were new to it.

    A database that went away is retried with backoff (the connection is
    re-opened first); past the retries the sweeper queues the posts again."""
    if self.request.retries:
        close_old_connections()
    return process_with_waiting(post_ids)


def process_with_waiting(post_ids: list[int]) -> int:
    """Process the posts of a task, and other posts waiting on their channels
    along with them, up to WORKER_BATCH_SIZE (PostgreSQL).

    A batch costs a few dozen statements however many posts it holds, so a
    worker behind a queue of small tasks (an API request each) spent most of
    its time on them. It now takes the waiting posts of the same channels into
    its batch, under the channels' filing locks, the posts locked until it
    commits; their own tasks find them processed and end at once. Another
    worker skips posts one holds. Returns how many posts were new to it.
    """
    room = settings.WORKER_BATCH_SIZE - len(post_ids)
    if connection.vendor != "postgresql" or room < 1:
        return process_isolated(post_ids)
    with transaction.atomic():
        channels = lock_filing(post_ids)
        return process_isolated(post_ids + claim_waiting(channels, post_ids, room))
