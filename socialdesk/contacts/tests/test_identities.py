"""An author's e-mail and photo travel from the import record to their identity; one
identity per handle, however many batches resolve it at once."""

import random

import pytest

from conftest import post
from socialdesk.contacts import actions
from socialdesk.contacts.actions import do_resolve_identities
from socialdesk.contacts.models import Contact, Identity
from socialdesk.contacts.tests.helpers import contact_of
from socialdesk.ingestion.records import RecordError, check_record
from socialdesk.lib.tests.concurrency import run_together, skip_unless_concurrent_writers


def test_the_record_carries_an_email_and_an_avatar(db):
    record = check_record(post("1", "hi", author_email=" Carol@Example.com ",
                               author_avatar="https://cdn.example/c.png"), 1000)
    assert (record.author_email, record.author_avatar) == (
        "Carol@Example.com", "https://cdn.example/c.png")
    assert "author_email" not in record.extra


@pytest.mark.parametrize("field, value, message", [
    ("author_email", "not an address", "is not an e-mail address"),
    ("author_email", "a@b", "is not an e-mail address"),
    ("author_avatar", "javascript:alert(1)", "must be an http:// or https:// URL"),
    ("author_avatar", "https://cdn.example/a b.png", "must be an http:// or https:// URL"),
    ("author_email", 42.5, "must be a string"),
])
def test_bad_emails_and_avatars_are_refused(db, field, value, message):
    with pytest.raises(RecordError, match=message):
        check_record(post("1", "hi", **{field: value}), 1000)


def test_new_and_known_identities_take_the_email_and_photo(feed):
    feed(post("1", "hi", author="carol", author_email="Carol@Example.com",
              author_avatar="https://cdn.example/c.png"))
    carol = Identity.objects.get(handle="carol")
    assert (carol.email, carol.photo_url) == ("carol@example.com", "https://cdn.example/c.png")
    assert contact_of("carol").email == "carol@example.com"
    feed(post("2", "hi again", author="carol", author_avatar="https://cdn.example/new.png",
              at="2026-11-17T09:00:00+00:00"))
    carol.refresh_from_db()
    assert (carol.email, carol.photo_url) == ("carol@example.com", "https://cdn.example/new.png")


def test_identity_resolution_costs_the_same_statements_whatever_the_batch(
        db, django_assert_num_queries):
    def batch(n, offset=0):
        keys = [("x", f"user{i}") for i in range(offset, offset + n)]
        return ({k: ("Name", 10) for k in keys},
                {k: (f"{k[1]}@example.com", "https://cdn.example/p.png") for k in keys})

    with django_assert_num_queries(3):  # look up, insert contacts, insert identities
        do_resolve_identities(*batch(5))
    with django_assert_num_queries(3):
        do_resolve_identities(*batch(400, offset=5))
    # Known identities with a new photo: one look-up and one update for the batch.
    authors, profiles = batch(300)
    profiles = {k: (email, "https://cdn.example/q.png") for k, (email, _) in profiles.items()}
    with django_assert_num_queries(2):
        do_resolve_identities(authors, profiles)
    assert Identity.objects.filter(photo_url="https://cdn.example/q.png").count() == 300


def test_an_identity_created_meanwhile_is_read_back_and_its_spare_contact_removed(
        db, monkeypatch):
    """Another transaction creates the identity between the look-up and the insert:
    the insert skips it, the caller gets the stored row, and no contact is left over."""
    (existing,) = do_resolve_identities({("x", "carol"): ("Carol", 10)}).values()
    contacts = set(Contact.objects.values_list("pk", flat=True))
    reads = []

    def look_up_too_early(keys, *args):
        reads.append(list(keys))
        if len(reads) > 1:
            read_identities(keys, *args)

    read_identities = actions._read_identities
    monkeypatch.setattr(actions, "_read_identities", look_up_too_early)
    found = do_resolve_identities({("x", "carol"): ("Carol B.", 12), ("x", "dan"): ("Dan", 3)},
                                  {("x", "carol"): ("carol@example.com", "")})

    assert reads == [[("x", "carol"), ("x", "dan")], [("x", "carol")]]
    dan = Identity.objects.get(handle="dan")
    assert found == {("x", "carol"): existing, ("x", "dan"): dan.pk}
    assert set(Contact.objects.values_list("pk", flat=True)) == contacts | {dan.contact_id}
    # Read back like a known identity: what was last seen is kept.
    carol = Identity.objects.get(pk=existing)
    assert (carol.name, carol.followers, carol.email) == ("Carol B.", 12, "carol@example.com")


def test_concurrent_batches_share_one_identity_per_handle(transactional_db):
    skip_unless_concurrent_writers()
    rng = random.Random(11)
    for round_ in range(5):
        # Half the handles are known from earlier rounds, half are new.
        handles = [f"user{i}" for i in range(round_ * 20, round_ * 20 + 40)]
        batches = [{("x", h): (h.title(), rng.randrange(1000)) for h in rng.sample(handles, 25)}
                   for _ in range(4)]
        results = run_together(do_resolve_identities, [(batch,) for batch in batches])

        stored = {(i.channel, i.handle): i.pk for i in Identity.objects.all()}
        for batch, found in zip(batches, results, strict=True):
            assert found == {key: stored[key] for key in batch}
        assert not Contact.objects.filter(identities__isnull=True).exists()
        assert Contact.objects.count() == Identity.objects.count()
