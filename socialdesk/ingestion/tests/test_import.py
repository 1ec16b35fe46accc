import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from conftest import post, write_jsonl
from socialdesk.cases.models import Case
from socialdesk.ingestion.models import Post

COMPLAINT = "my kettle stopped working after a week, really disappointed"


def run_import(path, *args):
    call_command("import_posts", str(path), "--quiet", *args)


def test_importing_the_same_file_twice_adds_nothing(db, tmp_path, teams):
    path = write_jsonl(tmp_path / "posts.jsonl", [
        post("1", COMPLAINT), post("2", "how do I descale it?", in_reply_to="1"),
        post("3", "love the toaster", channel="instagram"),
    ])
    run_import(path)
    counts = (Post.objects.count(), Case.objects.count())
    run_import(path)
    assert counts == (3, 2)
    assert (Post.objects.count(), Case.objects.count()) == counts


def test_the_same_external_id_on_two_channels_is_two_posts(feed, teams):
    feed(post("1", COMPLAINT, channel="x"), post("1", COMPLAINT, channel="facebook"))
    assert Post.objects.count() == 2


def test_a_reply_that_arrives_before_its_parent_is_threaded_when_the_parent_arrives(feed, teams):
    feed(post("child", "any update on this? still broken", at="2026-11-16T10:00:00+00:00",
              in_reply_to="parent"))
    child = Post.objects.get(external_id="child")
    assert child.parent is None

    feed(post("parent", COMPLAINT, at="2026-11-16T09:00:00+00:00"))
    child.refresh_from_db()
    parent = Post.objects.get(external_id="parent")
    assert child.parent == parent
    assert parent.case == child.case
    assert child.case.opened_at == parent.created_at


def test_a_late_parent_in_the_same_batch_is_threaded(feed, teams):
    feed(post("b", "still waiting", in_reply_to="a", at="2026-11-16T10:00:00+00:00"),
         post("a", COMPLAINT))
    a, b = Post.objects.get(external_id="a"), Post.objects.get(external_id="b")
    assert b.parent == a and a.case == b.case


def test_brand_replies_join_the_customers_case(feed, teams):
    feed(post("1", COMPLAINT),
         post("2", "Sorry! We've sent you a DM.", author="brightkettle", direction="outbound",
              in_reply_to="1", at="2026-11-16T09:20:00+00:00"))
    case = Case.objects.get()
    assert case.posts.count() == 2
    assert (case.first_response_at - case.opened_at).total_seconds() == 20 * 60
    assert case.status == Case.Status.OPEN


def test_a_private_message_joins_the_authors_open_case_on_that_channel(feed, teams):
    feed(post("1", COMPLAINT),
         post("dm1", "here is my order number BK-12345", visibility="private",
              at="2026-11-16T09:30:00+00:00"))
    assert Case.objects.count() == 1


BAD_LINES = [
    ({"channel": "x", "external_id": "1", "author": "a", "created_at": "2026-11-16T09:00:00Z"},
     "missing field 'text'"),
    ({**post("2", "hi"), "created_at": "yesterday"}, "not an ISO 8601 date"),
    ({**post("3", "hi"), "created_at": "2026-11-16T09:00:00"}, "has no UTC offset"),
    ({**post("4", "hi"), "author_followers": "many"}, "'author_followers' must be a whole number"),
    ({**post("5", "hi"), "text": ["not", "a", "string"]}, "'text' must be a string"),
    ({**post("6", "x" * 40_001)}, "the limit is 40,000"),
    ({**post("7", "hi"), "visibility": "secret"}, "'visibility' must be public or private"),
    ({**post("8", "hi"), "direction": "sideways"}, "'direction' must be inbound or outbound"),
    ({**post("9", "hi"), "url": "javascript:alert(1)"}, "'url' must start with http"),
]


def test_each_bad_record_is_reported_with_its_line_and_reason(db, tmp_path, teams, capsys):
    good = post("ok", COMPLAINT)
    lines = [json.dumps(good).encode()]
    lines += [json.dumps(bad).encode() for bad, _ in BAD_LINES]
    lines.append(b'{"channel": "x", "external_id": "u", "author": "a", "text": "caf\xe9", '
                 b'"created_at": "2026-11-16T09:00:00+00:00"}')
    lines.append(b'{"channel": "x", not json')
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")

    with pytest.raises(CommandError) as failure:
        run_import(path)
    assert failure.value.returncode == 1
    err = capsys.readouterr().err
    for number, (_, reason) in enumerate(BAD_LINES, start=2):
        assert f"bad.jsonl:{number}: " in err
        line = next(e for e in err.splitlines() if e.startswith(f"{path}:{number}: "))
        assert reason in line
    assert f"{path}:{len(BAD_LINES) + 2}: not valid UTF-8" in err
    assert f"{path}:{len(BAD_LINES) + 3}: not valid JSON" in err
    assert list(Post.objects.values_list("external_id", flat=True)) == ["ok"]


def test_csv_import_uses_the_same_schema(db, tmp_path, teams):
    path = tmp_path / "posts.csv"
    path.write_text(
        "channel,external_id,author,text,created_at,author_followers,visibility\n"
        f'x,1,carol,"{COMPLAINT}",2026-11-16T09:00:00+00:00,120,public\n'
        "x,2,dave,\"multi\nline, with a comma\",2026-11-16T09:05:00+01:00,,private\n"
        "x,3,erin,no date,,,\n"
    )
    with pytest.raises(CommandError):
        run_import(path)
    assert Post.objects.count() == 2
    assert Post.objects.get(external_id="2").text == "multi\nline, with a comma"
    assert Post.objects.get(external_id="1").followers == 120


def test_a_missing_file_is_a_clear_error(db):
    with pytest.raises(CommandError, match="no such file"):
        run_import("/nonexistent/posts.jsonl")


def test_posts_left_unprocessed_by_an_interrupted_run_are_processed_later(db, teams, tmp_path):
    from socialdesk.ingestion.actions import do_store_posts
    from socialdesk.ingestion.records import check_record

    # Stored, then the process died before the pipeline ran.
    do_store_posts([check_record(post("lost", COMPLAINT), 40_000)])
    assert Post.objects.get().case is None

    run_import(write_jsonl(tmp_path / "next.jsonl", [post("next", "how do I descale it?")]))
    lost = Post.objects.get(external_id="lost")
    assert lost.processed_at is not None and lost.case is not None
