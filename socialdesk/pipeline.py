"""The flow of a post: store → enrich and triage → route → case.

Each stage is a function over a batch. `process_posts` is a Celery task: on
workers in the scale-out mode, in-process (eager) in the embedded mode, the
same code either way. It is idempotent: posts already processed are skipped.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from socialdesk.cases.filing import do_file_posts
from socialdesk.contacts.actions import do_refresh_contacts
from socialdesk.contacts.queries import author_context
from socialdesk.ingestion.actions import IngestResult, do_store_posts, link_parents, lock_filing
from socialdesk.ingestion.models import Post
from socialdesk.ingestion.queries import post_rows
from socialdesk.ingestion.records import Record
from socialdesk.lib.bulk import bulk_update_fields
from socialdesk.routing.actions import active_rules
from socialdesk.routing.rules import Route, RuleSet, route
from socialdesk.triage.actions import active_policy, do_store_triage, post_input
from socialdesk.triage.engine import PostInput, TopicMatcher, TriageResult, triage_batch
from socialdesk.triage.policy import Policy, approval_needed
from socialdesk.triage.queries import active_topics
from socialdesk.triage.spikes import do_add_counts, mark_spikes
from socialdesk.triage.spread import triage_in_background, triage_spread


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


def ingest(records: list[Record], source: str = "import") -> IngestResult:
    """Store a batch, then process what was new (after commit, on a worker if any).

    Raises QueueUnavailable, after storing, when the workers could not be told."""
    ingestor = Ingestor(source)
    result = ingestor.add(records)
    ingestor.close()
    return result


class Ingestor:
    """Store and process batch after batch.

    Scale-out: each stored batch is queued for the workers once committed.
    Embedded: batches are processed here, and with helper processes
    (TRIAGE_PROCESSES > 1) the next batch is triaged in the background while
    this process writes the previous one, so both cores stay busy.
    """

    def __init__(self, source: str = "import"):
        self.source = source
        self.pending: Pending | None = None
        self.overlap = not settings.SCALE_OUT and settings.TRIAGE_PROCESSES > 1

    def add(self, records: list[Record]) -> IngestResult:
        result = do_store_posts(records, source=self.source)
        self.process(result.created + result.adopted)
        return result

    def process(self, ids: list[int]) -> None:
        """Process stored posts, a batch at a time, in whichever mode is configured."""
        size = settings.PIPELINE_BATCH_SIZE
        for start in range(0, len(ids), size):
            batch = ids[start:start + size]
            if settings.SCALE_OUT:
                # Workers must see the stored rows: enqueue once they are committed.
                transaction.on_commit(lambda batch=batch: process_posts.delay(batch))
            elif self.overlap:
                started = start_processing(batch, background=True)
                self.close()
                self.pending = started
            else:
                process_posts(batch)

    def close(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            finish_processing(pending)


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


def process_backlog() -> int:
    """Process posts that were stored but never processed (an import or a worker
    stopped half-way). Returns how many were queued or processed."""
    ids = list(Post.objects.filter(processed_at__isnull=True).order_by("id")
               .values_list("id", flat=True))
    ingestor = Ingestor("backlog")
    ingestor.process(ids)
    ingestor.close()
    return len(ids)


@shared_task(name="pipeline.process_posts", acks_late=True)
def process_posts(post_ids: list[int]) -> int:
    """Triage, route and file the given posts; returns how many were new to it."""
    return finish_processing(start_processing(post_ids))
