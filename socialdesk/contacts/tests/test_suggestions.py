"""Suggested merges: the same e-mail, the same name and photo, the same text on two channels."""

from conftest import post
from socialdesk.contacts.actions import do_refresh_contacts
from socialdesk.contacts.merging import do_decide_suggestion, do_merge_contacts, do_unmerge
from socialdesk.contacts.models import Contact, MergeSuggestion, PostFingerprint
from socialdesk.contacts.suggestions import (
    CROSS_POST_MIN_CHARS,
    MAX_GROUP,
    do_suggest_merges,
    normalise,
)
from socialdesk.contacts.tests.helpers import contact_of
from socialdesk.ingestion.models import Post

PHOTO = "https://cdn.example/avatars/carol.jpg"
CROSS = "Three weeks and still no refund for my broken kettle, order 4471. Not impressed."


def pair(one: Contact, other: Contact) -> tuple[int, int]:
    return (min(one.pk, other.pk), max(one.pk, other.pk))


def pending_pairs() -> set[tuple[int, int]]:
    return set(MergeSuggestion.objects.filter(status="pending")
               .values_list("contact_a_id", "contact_b_id"))


def refresh_all() -> dict:
    """What the pipeline's hook does after a batch: here, for every post stored."""
    return do_refresh_contacts(Post.objects.values_list("pk", flat=True))


def test_the_same_email_on_two_channels_is_suggested(feed):
    feed(post("1", "hello", author="carol", author_email="Carol@Example.com"),
         post("2", "hi", channel="instagram", author="carol.ig",
              author_email="carol@example.com"),
         post("3", "hey", channel="facebook", author="dan", author_email="dan@example.com"))
    refresh_all()
    x, ig = contact_of("carol"), contact_of("carol.ig", "instagram")
    suggestion = MergeSuggestion.objects.get()
    assert (suggestion.contact_a_id, suggestion.contact_b_id) == pair(x, ig)
    assert suggestion.reason == "email" and suggestion.status == "pending"
    assert suggestion.evidence == {"email": {"email": "carol@example.com"}}


def test_the_same_name_and_photo_is_suggested_but_not_the_name_alone(feed):
    feed(post("1", "hello", author="carol", author_name="Carol Jones", author_avatar=PHOTO),
         post("2", "hi", channel="youtube", author="cj", author_name="carol  jones",
              author_avatar=PHOTO),
         post("3", "hey", channel="reddit", author="cjones", author_name="Carol Jones",
              author_avatar="https://cdn.example/avatars/other.jpg"))
    refresh_all()
    assert pending_pairs() == {pair(contact_of("carol"), contact_of("cj", "youtube"))}
    suggestion = MergeSuggestion.objects.get()
    assert suggestion.reason == "name_photo"
    assert suggestion.evidence["name_photo"] == {"name": "carol jones", "photo_url": PHOTO}


def test_the_same_text_on_two_channels_within_a_day_is_suggested(feed):
    feed(post("1", CROSS, author="carol", at="2026-11-16T09:00:00+00:00"),
         post("2", "@kettleco " + CROSS.upper().replace(",", "") + " https://t.example/x",
              channel="facebook", author="carol.fb", at="2026-11-17T08:00:00+00:00"),
         # The same text too late, on the same channel, or too short: none of them.
         post("3", CROSS, channel="instagram", author="late", at="2026-11-18T09:30:00+00:00"),
         post("4", CROSS, author="copycat", at="2026-11-16T10:00:00+00:00"),
         post("5", "refund please!!", author="short1"),
         post("6", "refund please!!", channel="reddit", author="short2"))
    refresh_all()
    x, fb = contact_of("carol"), contact_of("carol.fb", "facebook")
    assert pending_pairs() == {pair(x, fb), pair(contact_of("copycat"), fb)}
    evidence = MergeSuggestion.objects.get(contact_a=x).evidence["cross_post"]
    assert sorted(evidence["channels"]) == ["facebook", "x"]
    assert evidence["excerpt"] == CROSS[:140]
    assert len(normalise("refund please!!")) < CROSS_POST_MIN_CHARS


def test_a_rejected_pair_is_never_proposed_again(feed, agent):
    feed(post("1", "hello", author="carol", author_email="carol@example.com"),
         post("2", "hi", channel="instagram", author="carol.ig",
              author_email="carol@example.com"))
    refresh_all()
    suggestion = MergeSuggestion.objects.get()
    assert do_decide_suggestion(suggestion, accept=False, actor=agent) is None
    feed(post("3", "hello again", author="carol", author_email="carol@example.com",
              at="2026-11-17T09:00:00+00:00"))
    refresh_all()
    assert do_suggest_merges() == []
    suggestion.refresh_from_db()
    assert suggestion.status == "rejected" and suggestion.decided_by == agent
    assert MergeSuggestion.objects.count() == 1


def test_an_unmerged_pair_is_never_proposed_again(feed, agent):
    feed(post("1", "hello", author="carol", author_email="carol@example.com"),
         post("2", "hi", channel="instagram", author="carol.ig",
              author_email="carol@example.com"))
    x, ig = contact_of("carol"), contact_of("carol.ig", "instagram")
    merge = do_merge_contacts(x, ig, agent)
    do_unmerge(merge, agent)
    assert do_suggest_merges() == []
    assert pending_pairs() == set()


def test_accepting_a_suggestion_merges_into_the_customer_record(feed, agent):
    feed(post("1", "hello", author="carol", author_email="carol@example.com"),
         post("2", "hi", channel="instagram", author="carol.ig",
              author_email="carol@example.com"))
    ig = contact_of("carol.ig", "instagram")
    Contact.objects.filter(pk=ig.pk).update(customer_id="CUST-9")
    refresh_all()
    merge = do_decide_suggestion(MergeSuggestion.objects.get(), accept=True, actor=agent)
    assert merge.target_id == ig.pk
    assert sorted(ig.identities.values_list("handle", flat=True)) == ["carol", "carol.ig"]
    assert MergeSuggestion.objects.get().status == "accepted"


def test_a_key_many_contacts_share_is_no_evidence(feed):
    feed(*(post(str(i), "hello", channel="x" if i % 2 else "facebook", author=f"user{i}",
                author_email="info@shared.example") for i in range(MAX_GROUP + 1)))
    assert do_suggest_merges() == []


def test_the_pipeline_hook_costs_the_same_few_queries_whatever_the_batch(
        feed, django_assert_max_num_queries):
    feed(*(post(str(i), f"{CROSS} number {i}", author=f"user{i}",
                author_email=f"user{i}@example.com") for i in range(40)))
    ids = list(Post.objects.order_by("pk").values_list("pk", flat=True))
    PostFingerprint.objects.all().delete()
    with django_assert_max_num_queries(12) as few:
        do_refresh_contacts(ids[:3])
    with django_assert_max_num_queries(len(few.captured_queries)):
        counts = do_refresh_contacts(ids)
    assert counts["contacts"] == 40
    assert PostFingerprint.objects.count() == 40
