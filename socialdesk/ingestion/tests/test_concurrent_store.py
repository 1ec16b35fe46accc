"""Storing is safe with concurrent callers: overlapping batches stored at once store
each post and each author once, report each new post to exactly one caller, and
count the rest as duplicates."""

import random
from datetime import UTC, datetime, timedelta

from conftest import post
from socialdesk.contacts.models import Contact, Identity
from socialdesk.ingestion import actions
from socialdesk.ingestion.actions import do_store_posts
from socialdesk.ingestion.models import Post
from socialdesk.ingestion.records import check_record
from socialdesk.lib.tests.concurrency import run_together, skip_unless_concurrent_writers

START = datetime(2026, 11, 16, 9, tzinfo=UTC)


def record(external_id, author="carol", minutes=0, **extra):
    at = (START + timedelta(minutes=minutes)).isoformat()
    return check_record(post(external_id, f"post {external_id}", author=author, at=at, **extra),
                        40_000)


def test_posts_stored_meanwhile_are_duplicates_and_their_replies_are_threaded(db, monkeypatch):
    """Another import stores posts between the look-up and the insert: the insert
    skips them, and the replies this call stores still find their parent."""
    first = do_store_posts([record("1"), record("2", minutes=1)])
    stored_meanwhile = {("x", "1"), ("x", "2")}
    looked_up = []

    def existing_ids(channel, external_ids):
        found = existing_ids_now(channel, external_ids)
        if not looked_up:  # before the insert: the look-up comes too early
            found = {e: pk for e, pk in found.items() if (channel, e) not in stored_meanwhile}
        return found

    def insert_new_rows(*args, **kwargs):
        looked_up.append(True)
        return insert_now(*args, **kwargs)

    existing_ids_now, insert_now = actions._existing_ids, actions.insert_new_rows
    monkeypatch.setattr(actions, "_existing_ids", existing_ids)
    monkeypatch.setattr(actions, "insert_new_rows", insert_new_rows)
    result = do_store_posts([record("1"), record("3", "dan", 2, in_reply_to="1"),
                             record("2", minutes=1), record("4", "erin", 3, in_reply_to="3")])

    posts = {p.external_id: p for p in Post.objects.all()}
    assert result.created == [posts["3"].pk, posts["4"].pk]
    assert (result.duplicates, result.adopted) == (2, [])
    assert [posts["1"].pk, posts["2"].pk] == first.created
    assert (posts["3"].parent_id, posts["4"].parent_id) == (posts["1"].pk, posts["3"].pk)


def batches_for_round(rng: random.Random, round_: int, callers: int, earlier: list) -> list:
    """Overlapping batches: conversations (a post and its replies) that several
    callers carry in part, authors shared between callers and rounds, a post
    repeated within a batch, and posts of earlier rounds sent again."""
    handles = [f"user{i}" for i in range(round_ * 10, round_ * 10 + 30)]
    conversations = []
    for c in range(15):
        base = round_ * 1000 + c * 10
        parent = record(f"{base}", rng.choice(handles), base)
        replies = [record(f"{base + k}", rng.choice(handles), base + k, in_reply_to=f"{base}")
                   for k in range(1, 4)]
        conversations.append((parent, replies))
    batches = []
    for _ in range(callers):
        batch = rng.sample(earlier, min(3, len(earlier)))
        for parent, replies in conversations:
            if rng.random() < 0.8:
                batch += [parent, *rng.sample(replies, rng.randrange(len(replies) + 1))]
        batch.append(rng.choice(batch))
        rng.shuffle(batch)
        batches.append(batch)
    return batches


def test_concurrent_overlapping_batches_store_each_post_and_author_once(transactional_db):
    skip_unless_concurrent_writers()
    rng = random.Random(5)
    earlier = []
    for round_ in range(5):
        before = set(Post.objects.values_list("external_id", flat=True))
        batches = batches_for_round(rng, round_, callers=4, earlier=earlier)
        results = run_together(do_store_posts, [(batch,) for batch in batches])

        for batch, result in zip(batches, results, strict=True):
            assert len(result.created) + result.duplicates == len(batch)
            assert result.adopted == []
        created = [pk for result in results for pk in result.created]
        assert len(created) == len(set(created)), "a post was reported by two callers"
        sent = {r.external_id: r for batch in batches for r in batch}
        posts = {p.external_id: p for p in Post.objects.select_related("author")}
        assert set(posts) == before | set(sent)
        assert set(created) == {posts[e].pk for e in set(sent) - before}
        for external_id, r in sent.items():
            stored = posts[external_id]
            assert stored.author.handle == r.author
            assert stored.parent_id == (posts[r.in_reply_to].pk if r.in_reply_to else None)
        handles = [i.handle for i in Identity.objects.all()]
        assert len(handles) == len(set(handles))
        assert set(handles) == {p.author.handle for p in posts.values()}
        assert not Contact.objects.filter(identities__isnull=True).exists()
        earlier += sent.values()
