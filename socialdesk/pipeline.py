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
from socialdesk.ingestion.records import Record
from socialdesk.routing.actions import active_rules
from socialdesk.routing.rules import Route, RuleSet, route
from socialdesk.triage.actions import active_policy, do_store_triage, post_input
from socialdesk.triage.engine import PostInput, TriageResult, triage_batch
from socialdesk.triage.policy import Policy


def decide(inputs: list[PostInput], policy: Policy,
           ruleset: RuleSet) -> list[tuple[TriageResult, Route]]:
    """Enrich, triage and route, with no database: shared by the desk and `socialdesk triage`."""
    decided = []
    for post, result in zip(inputs, triage_batch(inputs, policy), strict=True):
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
        # Row locks keep two workers from processing one post twice (PostgreSQL);
        # SQLite serialises writers anyway.
        loaded = (Post.objects.select_related("author__contact").defer("raw")
                  .filter(id__in=post_ids)
                  .select_for_update(of=("self",)))
        fresh = list(loaded.filter(processed_at__isnull=True))
        # Posts processed before whose parent has just arrived: they may now
        # belong to the parent's case.
        adopted = list(loaded.filter(processed_at__isnull=False, case__isnull=True))
        if not fresh and not adopted:
            return 0
        inbound = [p for p in fresh if p.direction == Post.Direction.INBOUND]
        decided = decide([post_input(p) for p in inbound], active_policy(), active_rules())
        do_store_triage(inbound, [result for result, _ in decided])
        triages = {p.id: result for p, (result, _) in zip(inbound, decided, strict=True)}
        routes = {p.id: chosen for p, (_, chosen) in zip(inbound, decided, strict=True)}
        ordered = sorted(fresh + adopted, key=lambda p: (p.created_at, p.id))
        do_file_posts(ordered, triages, routes)
        Post.objects.filter(id__in=[p.id for p in fresh]).update(processed_at=timezone.now())
    return len(fresh)
