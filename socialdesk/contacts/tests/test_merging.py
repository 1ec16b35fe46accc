"""Merging two contacts into one person, and undoing it exactly."""

import pytest

from conftest import post
from socialdesk.audit.models import Event
from socialdesk.contacts.actions import do_add_contact_note
from socialdesk.contacts.merging import MergeError, do_merge_contacts, do_unmerge, pick_target
from socialdesk.contacts.models import Contact, Merge, MergeSuggestion
from socialdesk.contacts.tests.helpers import contact_of, snapshot

BROKEN = "my kettle stopped working after a week, really disappointed"


@pytest.fixture
def two(feed, agent, teammate):
    """Carol on x (two cases) and on instagram (one case, a customer, with a note)."""
    feed(post("1", BROKEN, author="carol", author_name="Carol"),
         post("2", "and the lid is cracked too, what a waste of money", author="carol",
              author_name="Carol", at="2026-11-17T09:00:00+00:00"),
         post("3", BROKEN, channel="instagram", author="carol.ig", author_name="Carol J."))
    x, ig = contact_of("carol"), contact_of("carol.ig", "instagram")
    Contact.objects.filter(pk=ig.pk).update(customer_id="CUST-1", email="carol@example.com",
                                            tier="vip", account_owner=teammate,
                                            tags=["vip", "warranty"])
    do_add_contact_note(ig, agent, "prefers phone calls")
    ig.refresh_from_db()
    return x, ig


def test_a_merge_moves_identities_cases_and_notes_and_fills_empty_fields(two, agent, teammate):
    x, ig = two
    ig_before = snapshot(ig)
    merge = do_merge_contacts(x, ig, agent)

    x.refresh_from_db()
    ig.refresh_from_db()
    assert sorted(x.identities.values_list("handle", flat=True)) == ["carol", "carol.ig"]
    assert x.cases.count() == 3 and not ig.cases.exists()
    assert list(x.notes.values_list("text", flat=True)) == ["prefers phone calls"]
    assert (x.customer_id, x.email, x.tier, x.account_owner) == (
        "CUST-1", "carol@example.com", "vip", teammate)
    assert x.name == "Carol"  # the kept contact's own name stays
    assert "warranty" in x.tags and "vip" in x.tags
    assert ig.merged_into == x and ig.customer_id == ""
    assert merge.moved == {"identities": ig_before["identities"],
                           "cases": ig_before["cases"], "notes": ig_before["notes"]}
    assert merge.source_fields["customer_id"] == "CUST-1"
    event = Event.objects.get(verb="contact.merged")
    assert event.actor == agent and event.data["contact"] == x.pk
    assert event.data["merged"] == ig.pk and event.data["cases"] == ig_before["cases"]
    moved_case_events = Event.objects.filter(verb="case.contact_merged")
    assert sorted(moved_case_events.values_list("case_id", flat=True)) == ig_before["cases"]


def test_unmerge_restores_exactly_what_moved_and_history_stays(two, agent):
    x, ig = two
    before = {"x": snapshot(x), "ig": snapshot(ig)}
    history = list(Event.objects.values_list("pk", "verb", "data"))

    merge = do_merge_contacts(x, ig, agent)
    do_unmerge(merge, agent)

    assert {"x": snapshot(x), "ig": snapshot(ig)} == before
    # Nothing of the log was changed or lost; the merge and unmerge were added to it.
    assert list(Event.objects.filter(pk__in=[h[0] for h in history])
                .values_list("pk", "verb", "data")) == history
    added = list(Event.objects.exclude(pk__in=[h[0] for h in history])
                 .values_list("verb", flat=True))
    assert added.count("contact.merged") == 1 and added.count("contact.unmerged") == 1
    assert added.count("case.contact_unmerged") == len(before["ig"]["cases"])
    merge.refresh_from_db()
    assert merge.undone_by == agent and merge.undone_at is not None
    # Unmerged means two people: the pair is not suggested again.
    assert MergeSuggestion.objects.get(contact_a=x, contact_b=ig).status == "rejected"


def test_unmerge_keeps_changes_made_to_the_kept_contact_since(two, agent):
    x, ig = two
    merge = do_merge_contacts(x, ig, agent)
    Contact.objects.filter(pk=x.pk).update(email="carol.new@example.com")
    do_unmerge(merge, agent)
    x.refresh_from_db()
    ig.refresh_from_db()
    assert x.email == "carol.new@example.com" and x.customer_id == ""
    assert ig.email == "carol@example.com" and ig.customer_id == "CUST-1"


def test_merges_that_cannot_be_one_person_are_refused_and_change_nothing(two, feed, agent):
    x, ig = two
    feed(post("9", "hello there", author="dave"))
    dave = contact_of("dave")
    Contact.objects.filter(pk=dave.pk).update(customer_id="CUST-2")
    with pytest.raises(MergeError, match="two customers"):
        do_merge_contacts(ig, dave, agent)
    with pytest.raises(MergeError, match="into itself"):
        do_merge_contacts(x, x, agent)
    merge = do_merge_contacts(x, ig, agent)
    with pytest.raises(MergeError, match="was merged into contact"):
        do_merge_contacts(dave, ig, agent)
    do_unmerge(merge, agent)
    with pytest.raises(MergeError, match="already undone"):
        do_unmerge(merge, agent)
    assert Merge.objects.count() == 1
    assert dave.cases.count() == 1 and ig.cases.count() == 1


def test_a_merge_into_a_contact_merged_since_is_undone_in_order(two, feed, agent):
    x, ig = two
    feed(post("9", "hello there", channel="facebook", author="carol.fb"))
    fb = contact_of("carol.fb", "facebook")
    first = do_merge_contacts(x, ig, agent)
    second = do_merge_contacts(fb, x, agent)
    with pytest.raises(MergeError, match="undo that merge first"):
        do_unmerge(first, agent)
    do_unmerge(second, agent)
    do_unmerge(first, agent)
    assert ig.identities.count() == 1 and x.identities.count() == 1
    assert fb.identities.count() == 1


def test_the_customer_record_is_kept_else_the_older_contact(two, feed):
    x, ig = two
    assert pick_target(x, ig) == (ig, x)
    feed(post("9", "hello there", author="dave"))
    dave = contact_of("dave")
    assert pick_target(dave, x) == (x, dave)
