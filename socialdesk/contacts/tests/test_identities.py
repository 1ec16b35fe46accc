"""An author's e-mail and photo travel from the import record to their identity."""

import pytest

from conftest import post
from socialdesk.contacts.actions import do_resolve_identities
from socialdesk.contacts.models import Identity
from socialdesk.contacts.tests.helpers import contact_of
from socialdesk.ingestion.records import RecordError, check_record


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
