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


def test_the_demo_escalates_a_crisis_and_routes_a_complaint_to_its_account_owner(db):
    from socialdesk.audit.models import Event
    from socialdesk.cases.models import Case
    from socialdesk.demo.setup import do_import_sample, do_set_up_accounts
    from socialdesk.notifications.models import Notification

    do_set_up_accounts()
    do_import_sample()
    crisis = Case.objects.filter(category="crisis").select_related("team").first()
    assert crisis is not None and crisis.team.slug == "pr" and crisis.priority == "P0"
    escalated = Event.objects.get(case=crisis, verb="case.escalated")
    assert escalated.data["notified"]
    assert Notification.objects.filter(case=crisis, verb="case.escalated").exists()
    owned = Case.objects.filter(routing_rule="unhappy-known-customers",
                                contact__account_owner__isnull=False).select_related("contact")
    assert owned and all(case.assignee == case.contact.account_owner for case in owned)


def test_the_demo_moves_the_sample_week_up_to_now(db):
    from datetime import timedelta

    from django.utils import timezone

    from socialdesk.demo.setup import do_import_sample, do_set_up_accounts
    from socialdesk.ingestion.models import Post

    do_set_up_accounts()
    now = timezone.now()
    do_import_sample(now=now)
    latest = Post.objects.latest("created_at").created_at
    assert latest == now - timedelta(minutes=10)
    assert Post.objects.earliest("created_at").created_at > now - timedelta(days=8)


def test_the_demo_hears_posts_dropped_in_its_folder_and_answers_to_the_outbox(db, settings,
                                                                              tmp_path):
    import json

    from socialdesk.cases.clock import tick
    from socialdesk.connectors.models import ChannelAccount
    from socialdesk.demo.setup import do_set_up_accounts, drop_folder
    from socialdesk.ingestion.models import Post

    settings.DATA_DIR = tmp_path
    do_set_up_accounts()
    do_set_up_accounts()  # a second start keeps one listener
    listening = ChannelAccount.objects.exclude(listener="")
    assert [(a.channel, a.handle, a.listener, a.delivery) for a in listening] == \
        [("x", "brightkettle", "folder", "file")]
    line = {"channel": "x", "external_id": "drop-1", "author": "fern",
            "text": "@brightkettle my order never came", "created_at": "2026-12-07T09:00:00Z"}
    (drop_folder() / "late.jsonl").write_text(json.dumps(line) + "\n")
    assert tick()["accounts_polled"] == 1
    post = Post.objects.get(external_id="drop-1")
    assert post.case is not None and post.account == "brightkettle"
