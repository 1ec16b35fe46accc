"""lib.bulk: multi-row inserts, and inserts that skip the rows whose unique key is
stored already (INSERT … ON CONFLICT DO NOTHING), on SQLite and PostgreSQL."""

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from socialdesk.contacts.models import Contact, Identity
from socialdesk.ingestion.models import Post
from socialdesk.lib.bulk import bulk_update_fields, delete_rows, insert_new_rows, insert_rows
from socialdesk.lib.tests.concurrency import run_together, skip_unless_concurrent_writers
from socialdesk.triage.actions import TRIAGE_FIELDS
from socialdesk.triage.models import Triage

FIELDS = ["channel", "handle", "name", "contact"]
KEY = ("channel", "handle")


@pytest.fixture
def contact_id(db):
    return Contact.objects.create(name="someone").pk


def stored() -> dict[tuple[str, str], int]:
    return {(i.channel, i.handle): i.pk for i in Identity.objects.all()}


def test_insert_rows_returns_the_new_keys_in_row_order(contact_id):
    ids = insert_rows(Identity, FIELDS, [("x", "b", "", contact_id), ("x", "a", "", contact_id)])
    assert [Identity.objects.get(pk=pk).handle for pk in ids] == ["b", "a"]


def test_it_inserts_the_new_rows_and_skips_the_stored_ones(contact_id):
    (known,) = insert_rows(Identity, FIELDS, [("x", "bea", "Old name", contact_id)])
    new = insert_new_rows(Identity, FIELDS, [
        ("x", "al", "Al", contact_id), ("x", "bea", "New name", contact_id),
        ("facebook", "bea", "Bea", contact_id),
    ], unique=KEY)

    assert set(new) == {("x", "al"), ("facebook", "bea")}
    assert stored() == {**new, ("x", "bea"): known}
    # Skipped, not overwritten; left-out fields take their defaults.
    assert Identity.objects.get(pk=known).name == "Old name"
    assert Identity.objects.get(pk=new[("x", "al")]).email == ""


# Values the databases' text forms and the drivers treat specially.
AWKWARD_TEXT = ['say "hi"', "back\\slash", "comma, {brace}", "NULL", "", "null", "ünï 🙂 \u2028"]
AWKWARD_JSON = [{}, [], {"a": None}, {"q": 'x "y" \\ z', "n": [1, 2.5, True]}, "null", 0, [None]]
POST_FIELDS = ["channel", "external_id", "direction", "visibility", "author", "text",
               "created_at", "followers", "is_automated", "raw", "processed_at", "in_reply_to",
               "url", "account", "lang", "ingested_at"]


def test_values_come_back_as_written(contact_id):
    author = Identity.objects.create(channel="x", handle="a", contact_id=contact_id)
    at = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
    rows = [("x", str(i), "inbound", "public", author.pk, text, at + timedelta(days=i),
             None if i % 2 else 2**62 + i, bool(i % 2), AWKWARD_JSON[i],
             None if i % 3 else at + timedelta(microseconds=i), "", "", "", "", at)
            for i, text in enumerate(AWKWARD_TEXT)]
    ids = insert_rows(Post, POST_FIELDS, rows)

    stored = Post.objects.in_bulk(ids)
    for pk, row in zip(ids, rows, strict=True):
        assert tuple(getattr(stored[pk], f if f != "author" else "author_id")
                     for f in POST_FIELDS) == row

    scores = [0.25, math.inf, -math.inf]  # (SQLite keeps no NaN: it reads it as NULL)
    insert_rows(Triage, TRIAGE_FIELDS,
                [(pk, "en", "neutral", score, "other", "monitor", 0, "P4", "none", "", None, [],
                  AWKWARD_TEXT, 1, "v", at, {}, [], [], {}, "fast")
                 for pk, score in zip(ids[:3], scores, strict=True)], returning=False)
    read = dict(Triage.objects.values_list("post_id", "sentiment_score"))
    assert [read[pk] for pk in ids[:3]] == scores
    assert {tuple(r) for r in Triage.objects.values_list("reasons", flat=True)} \
        == {tuple(AWKWARD_TEXT)}

    posts = list(stored.values())
    for post, text, raw in zip(posts, reversed(AWKWARD_TEXT), reversed(AWKWARD_JSON),
                               strict=True):
        post.text, post.raw, post.processed_at, post.is_automated = text, raw, at, True
    bulk_update_fields(posts, ["text", "raw", "processed_at", "is_automated"])
    again = Post.objects.in_bulk(ids)
    assert [(again[p.pk].text, again[p.pk].raw, again[p.pk].processed_at,
             again[p.pk].is_automated) for p in posts] == \
        [(p.text, p.raw, at, True) for p in posts]


def test_a_key_given_twice_is_inserted_once(contact_id):
    new = insert_new_rows(Identity, FIELDS, [("x", "al", "first", contact_id),
                                             ("x", "al", "second", contact_id)], unique=KEY)
    assert list(new) == [("x", "al")]
    assert Identity.objects.get().name == "first"


def test_it_skips_stored_keys_in_batches_of_several_statements(contact_id):
    rows = [("x", f"user{i}", "", contact_id) for i in range(2500)]
    first = insert_new_rows(Identity, FIELDS, rows[:1200], unique=KEY)
    rest = insert_new_rows(Identity, FIELDS, rows, unique=KEY)
    assert (len(first), len(rest)) == (1200, 1300)
    assert stored() == {**first, **rest}


def test_nothing_to_insert_runs_no_statement(contact_id, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert insert_new_rows(Identity, FIELDS, [], unique=KEY) == {}
        delete_rows(Contact, [])


def test_the_skipped_key_must_be_a_unique_constraint(contact_id):
    with pytest.raises(DatabaseError), transaction.atomic():
        insert_new_rows(Identity, FIELDS, [("x", "al", "", contact_id)], unique=("handle",))


def test_delete_rows_deletes_just_those(contact_id):
    ids = insert_rows(Contact, ["name", "created_at"],
                      [(f"c{i}", timezone.now()) for i in range(5)])
    delete_rows(Contact, ids[1:4])
    assert set(Contact.objects.values_list("pk", flat=True)) == {contact_id, ids[0], ids[4]}


def test_concurrent_inserts_of_overlapping_keys_store_each_key_once(transactional_db):
    skip_unless_concurrent_writers()
    contact_id = Contact.objects.create(name="someone").pk

    def insert(handles: list[str]) -> dict:
        with transaction.atomic():
            return insert_new_rows(Identity, FIELDS,
                                   [("x", h, "", contact_id) for h in sorted(handles)],
                                   unique=KEY)

    rng = random.Random(7)
    for round_ in range(5):
        pool = [f"r{round_}-{i}" for i in range(300)]
        results = run_together(insert, [(rng.sample(pool, 200),) for _ in range(4)])
        reported = [(key, pk) for result in results for key, pk in result.items()]
        # Each key is reported by the one caller that inserted it.
        assert len(reported) == len(dict(reported))
        assert dict(reported) == {key: pk for key, pk in stored().items()
                                  if key[1].startswith(f"r{round_}-")}


def test_sqlite_datetimes_are_naive_utc_text_whatever_came_before():
    from zoneinfo import ZoneInfo

    from socialdesk.lib.bulk import _sqlite_datetime

    at = datetime(2026, 3, 1, 12, 30, 15, 5, tzinfo=UTC)
    paris = datetime(2026, 3, 1, 13, 30, 15, 5, tzinfo=ZoneInfo("Europe/Paris"))
    naive = datetime(2026, 3, 1, 9, 0)
    # Repeats of one value (a batch's `now`) and values in between, in any order.
    for value, text in [(at, "2026-03-01 12:30:15.000005"), (at, "2026-03-01 12:30:15.000005"),
                        (paris, "2026-03-01 12:30:15.000005"), (naive, "2026-03-01 09:00:00"),
                        (None, None), (naive, "2026-03-01 09:00:00"),
                        (at + timedelta(seconds=1), "2026-03-01 12:30:16.000005")]:
        assert _sqlite_datetime(value) == text
