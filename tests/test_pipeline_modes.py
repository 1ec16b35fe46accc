"""The embedded pipeline decides exactly what the offline triage decides, however it
is batched and whether or not triage runs in helper processes."""

import sys
from pathlib import Path

import pytest

from socialdesk.cases.models import Case
from socialdesk.ingestion.importer import import_records
from socialdesk.ingestion.models import Post
from socialdesk.ingestion.records import read_jsonl
from socialdesk.pipeline import decide, record_input
from socialdesk.routing.rules import default_rules
from socialdesk.triage.models import Triage
from socialdesk.triage.policy import default_policy

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from synthetic import jsonl_bytes, posts  # noqa: E402


@pytest.mark.parametrize("processes, batch", [(1, 1000), (2, 250)])
def test_batched_and_background_triage_match_the_offline_decisions(
        db, teams, settings, processes, batch):
    settings.TRIAGE_PROCESSES = processes
    settings.PIPELINE_BATCH_SIZE = batch
    records = [r for _, r in read_jsonl(jsonl_bytes(posts(900, seed=3)), 40_000)]
    report = import_records((i, r) for i, r in enumerate(records, 1))

    assert report.created == 900 and not report.rejected
    assert not Post.objects.filter(processed_at__isnull=True).exists()
    assert not Post.objects.filter(direction="inbound", case__isnull=True).exists()
    inbound = [r for r in records if r.direction == "inbound"]
    offline = decide([record_input(r) for r in inbound], default_policy(), default_rules())
    stored = {t.post.external_id: t for t in Triage.objects.select_related("post")}
    assert len(stored) == len(inbound)
    for record, (result, _) in zip(inbound, offline, strict=True):
        row = stored[record.external_id]
        assert (row.category, row.decision, row.priority, row.severity) == \
            (result.category, result.outcome.decision, result.outcome.priority, result.severity)
        assert row.reasons == result.reasons
    assert Case.objects.filter(team__slug__isnull=True).count() == 0
