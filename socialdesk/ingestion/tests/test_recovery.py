"""No stored post waits forever: interrupted runs, resent duplicates, posts that break
processing, and the import's report of what really happened."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from conftest import post, write_jsonl
from socialdesk import pipeline
from socialdesk.cases.clock import tick
from socialdesk.ingestion.actions import do_store_posts
from socialdesk.ingestion.models import Post
from socialdesk.ingestion.records import check_record
from socialdesk.pipeline import ingest, sweep_posts

COMPLAINT = "my kettle stopped working after a week, really disappointed"


def stored_only(*records):
    """Posts committed by a run that died before processing them."""
    return do_store_posts([check_record(r, 40_000) for r in records])


def age(seconds):
    Post.objects.update(ingested_at=timezone.now() - timedelta(seconds=seconds))


def test_the_clock_processes_posts_an_interrupted_run_left_behind(db, teams, settings):
    stored_only(post("1", COMPLAINT), post("2", "and the lid is cracked", in_reply_to="1"))
    tick()
    assert Post.objects.filter(processed_at__isnull=True).count() == 2, \
        "within the grace period the run that stored them may still be processing them"

    age(settings.SWEEP_GRACE_SECONDS + 1)
    assert tick()["posts_swept"] == 2
    one, two = Post.objects.order_by("external_id")
    assert one.processed_at and two.processed_at and one.case_id == two.case_id


def test_a_client_resending_an_unprocessed_duplicate_gets_it_processed(db, teams):
    stored_only(post("1", COMPLAINT))

    result = ingest([check_record(post("1", COMPLAINT), 40_000)])

    assert (result.created, result.duplicates, result.waiting) == ([], 1, [Post.objects.get().pk])
    assert Post.objects.get().case is not None


def test_a_processed_duplicate_is_not_processed_again(feed, teams):
    feed(post("1", COMPLAINT))
    assert feed(post("1", COMPLAINT)).waiting == []


@pytest.fixture
def breaks_on_lid(monkeypatch):
    """Processing that fails on one post: the triage raises for the word 'lid'."""
    real = pipeline.start_processing

    def start(post_ids, background=False):
        rows = {p.id: p.text for p in Post.objects.filter(id__in=post_ids)}
        if any("lid" in text for text in rows.values()):
            raise ValueError("the triage broke on this post")
        return real(post_ids, background)

    monkeypatch.setattr(pipeline, "start_processing", start)


def test_one_post_that_breaks_processing_is_set_aside_and_the_rest_go_on(
        db, teams, breaks_on_lid, tmp_path, capsys):
    records = [post(str(n), f"{COMPLAINT} #{n}") for n in range(9)]
    records.insert(4, post("bad", "the lid snapped off"))

    with pytest.raises(CommandError, match="not all could be processed"):
        call_command("import_posts", str(write_jsonl(tmp_path / "p.jsonl", records)), "--quiet")

    bad = Post.objects.get(external_id="bad")
    assert bad.processed_at is None and "the triage broke" in bad.process_error
    assert Post.objects.filter(processed_at__isnull=False).count() == 9
    err = capsys.readouterr().err
    assert f"1 posts are stored but could not be processed (post ids {bad.pk})" in err

    # The sweeper leaves it (it would fail again); --retry-failed tries it on purpose.
    age(3600)
    assert sweep_posts().found == 0


def test_a_post_set_aside_is_processed_when_retried_after_a_fix(db, teams, breaks_on_lid,
                                                                monkeypatch, capsys):
    ingest([check_record(post("bad", "the lid snapped off"), 40_000)])
    assert Post.objects.get().process_error

    monkeypatch.undo()  # the fix
    call_command("process_backlog", "--retry-failed")

    assert Post.objects.get().processed_at is not None
    assert "1 posts set aside with an error are tried again" in capsys.readouterr().out


def test_process_reports_what_it_found(db, teams, capsys):
    stored_only(post("1", COMPLAINT))
    call_command("process_backlog")
    assert "1 stored posts were waiting; 1 processed." in capsys.readouterr().out
    assert Post.objects.get().case is not None


def test_an_import_mentions_an_earlier_runs_posts_only_when_there_were_some(
        db, teams, tmp_path, capsys):
    call_command("import_posts", str(write_jsonl(tmp_path / "a.jsonl", [post("1", COMPLAINT)])),
                 "--quiet")
    assert "earlier run" not in capsys.readouterr().out

    stored_only(post("lost", COMPLAINT, author="dave"))
    call_command("import_posts", str(write_jsonl(tmp_path / "b.jsonl", [post("2", COMPLAINT)])),
                 "--quiet")
    assert "1 posts left unprocessed by an earlier run were processed too." in \
        capsys.readouterr().out


def test_a_directory_is_not_a_file_of_posts(db, tmp_path):
    with pytest.raises(CommandError, match="is a directory"):
        call_command("import_posts", str(tmp_path), "--quiet")
