"""The bundled sample is the demo's first impression: it must show every kind of post."""

import json
from collections import Counter

from socialdesk.demo.setup import SAMPLE


def test_the_sample_covers_what_the_demo_needs():
    records = [json.loads(line) for line in SAMPLE.read_text().splitlines()]
    assert len(records) >= 300
    channels = Counter(r["channel"] for r in records)
    assert len(channels) >= 3
    assert Counter(r.get("visibility", "public") for r in records)["private"] >= 30
    ids = {(r["channel"], r["external_id"]) for r in records}
    assert len(ids) == len(records)
    replies = [r for r in records if r.get("in_reply_to")]
    assert len(replies) >= 40
    assert all((r["channel"], r["in_reply_to"]) in ids for r in replies)
