"""The flow of a post: store → enrich and triage → route → case.

Each stage is a function over a batch. `process_posts` is a Celery task: on
workers in the scale-out mode, in-process (eager) in the embedded mode, the
same code either way. It is idempotent: posts already processed are skipped.
"""

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from socialdesk.cases.filing import do_file_posts
from socialdesk.ingestion.actions import IngestResult, do_store_posts
from socialdesk.ingestion.models import Post
from socialdesk.ingestion.queries import post_rows
from socialdesk.ingestion.records import Record
from socialdesk.lib.bulk import bulk_update_fields
from socialdesk.routing.actions import active_rules
from socialdesk.routing.rules import Route, RuleSet, route
from socialdesk.triage.actions import active_policy, do_store_triage, post_input
from socialdesk.triage.engine import PostInput, TriageResult
from socialdesk.triage.policy import Policy
from socialdesk.triage.spread import triage_spread


def decide(inputs: list[PostInput], policy: Policy,
           ruleset: RuleSet) -> list[tuple[TriageResult, Route]]:
    """Enrich, triage and route, with no database: shared by the desk and `socialdesk triage`."""
    decided = []
    results = triage_spread(inputs, policy, settings.TRIAGE_PROCESSES)
    for post, result in zip(inputs, results, strict=True):
        chosen = route(ruleset, result.facts(post))
        result.reasons.append(chosen.reason)
        decided.append((result, chosen))
    return decided


def contract(result: TriageResult, chosen: Route) -> dict:
    """The triage output contract (docs/TRIAGE.md); keep it stable."""
    return {
        "channel": result.channel, "external_id": result.external_id,
        "sentiment": result.sentiment, "category": result.category,
        "decision": result.outcome.decision, "severity": result.severity,
        "priority": result.outcome.priority, "team": chosen.team, "reasons": result.reasons,
    }


def ingest(records: list[Record], source: str = "import") -> IngestResult:
    """Store a batch, then process what was new (after commit, on a worker if any)."""
    result = do_store_posts(records, source=source)
    ids = result.created + result.adopted
    size = settings.PIPELINE_BATCH_SIZE
    for start in range(0, len(ids), size):
        batch = ids[start:start + size]
        if settings.SCALE_OUT:
            # Workers must see the stored rows: enqueue once they are committed.
            transaction.on_commit(lambda batch=batch: process_posts.delay(batch))
        else:
            process_posts(batch)
    return result


@shared_task(name="pipeline.process_posts", acks_late=True)
def process_posts(post_ids: list[int]) -> int:
    """Triage, route and file the given posts; returns how many were new to it."""
    with transaction.atomic():
        rows = post_rows(post_ids, lock=True)
        fresh = [p for p in rows if p.processed_at is None]
        # Posts processed before whose parent has just arrived: they may now
        # belong to the parent's case.
        adopted = [p for p in rows if p.processed_at is not None and p.case_id is None]
        if not fresh and not adopted:
            return 0
        inbound = [p for p in fresh if p.direction == Post.Direction.INBOUND]
        decided = decide([post_input(p) for p in inbound], active_policy(), active_rules())
        do_store_triage(inbound, [result for result, _ in decided])
        triages = {p.id: result for p, (result, _) in zip(inbound, decided, strict=True)}
        routes = {p.id: chosen for p, (_, chosen) in zip(inbound, decided, strict=True)}
        ordered = sorted(fresh + adopted, key=lambda p: (p.created_at, p.id))
        do_file_posts(ordered, triages, routes)
        now = timezone.now()
        for post in fresh:
            post.processed_at = now
        bulk_update_fields(ordered, ["case", "processed_at"], model=Post)
    return len(fresh)
