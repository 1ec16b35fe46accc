"""Computed tags (VIP, advocate, frequent engager, detractor) and agents' own."""

from datetime import datetime, timedelta

import pytest

from conftest import post
from socialdesk.audit.models import Event
from socialdesk.contacts import tags as tagging
from socialdesk.contacts.models import Contact
from socialdesk.contacts.tags import TagError, do_add_tag, do_refresh_tags, do_remove_tag
from socialdesk.contacts.tests.helpers import contact_of
from socialdesk.ingestion.records import check_record
from socialdesk.pipeline import ingest
from socialdesk.triage.models import Triage

START = datetime.fromisoformat("2026-11-01T09:00:00+00:00")
NOW = START + timedelta(days=10)


def posts_by(author: str, *sentiments: str, days_ago: float = 1) -> None:
    """Inbound posts by `author`, one per sentiment, as triage read them."""
    for sentiment in sentiments:
        external_id = f"{author}-{Triage.objects.count()}"
        at = (NOW - timedelta(days=days_ago)).isoformat()
        ingest([check_record(post(external_id, f"a post {external_id}", author=author, at=at),
                             40_000)])
        Triage.objects.filter(post__external_id=external_id).update(sentiment=sentiment)


def tags_of(author: str) -> list[str]:
    contact = contact_of(author)
    do_refresh_tags([contact.pk], now=NOW)
    contact.refresh_from_db()
    return contact.tags


def test_the_thresholds_are_written_once(db):
    assert tagging.TAG_WINDOW == timedelta(days=90)
    assert (tagging.ADVOCATE_MIN_POSITIVE, tagging.FREQUENT_MIN_POSTS,
            tagging.DETRACTOR_MIN_NEGATIVE) == (3, 5, 3)


def test_an_advocate_has_three_positive_posts_and_no_negative(teams):
    posts_by("fan", "positive", "positive")
    assert tags_of("fan") == []
    posts_by("fan", "positive")
    assert tags_of("fan") == ["advocate"]
    posts_by("fan", "negative")
    assert tags_of("fan") == []


def test_a_frequent_engager_posted_five_times_in_the_window(teams):
    posts_by("chatty", "neutral", "neutral", "neutral", "neutral")
    assert tags_of("chatty") == []
    posts_by("chatty", "neutral")
    assert tags_of("chatty") == ["frequent engager"]


def test_a_detractor_has_three_negative_posts_and_more_negative_than_positive(teams):
    posts_by("grump", "negative", "negative", "negative", "positive", "positive", "positive")
    assert "detractor" not in tags_of("grump")
    posts_by("grump", "negative")
    assert tags_of("grump") == ["frequent engager", "detractor"]


def test_posts_older_than_the_window_do_not_count_and_tags_lapse(teams):
    posts_by("old", "positive", "positive", "positive", days_ago=91)
    assert tags_of("old") == []
    posts_by("fan", "positive", "positive", "positive")
    assert tags_of("fan") == ["advocate"]
    # A refresh of everyone, months later, takes the tag away.
    assert do_refresh_tags(now=NOW + timedelta(days=100)) == 1
    assert contact_of("fan").tags == []


def test_vip_follows_the_tier_and_agents_tags_survive_a_refresh(teams, agent):
    posts_by("boss", "neutral")
    boss = contact_of("boss")
    do_add_tag(boss, "  Press  Contact ", agent)
    Contact.objects.filter(pk=boss.pk).update(tier="vip")
    assert tags_of("boss") == ["vip", "press contact"]
    do_remove_tag(boss, "press contact", agent)
    assert tags_of("boss") == ["vip"]
    assert list(Event.objects.filter(verb__startswith="contact.")
                .values_list("verb", "data__tag")) == [
        ("contact.tagged", "press contact"), ("contact.untagged", "press contact")]


@pytest.mark.parametrize("tag, message", [
    ("advocate", "computed"), ("VIP", "computed"), ("", "name"), ("x" * 41, "at most"),
    ("<b>", "letters"),
])
def test_agents_cannot_set_computed_or_malformed_tags(teams, agent, tag, message):
    posts_by("carol", "neutral")
    with pytest.raises(TagError, match=message):
        do_add_tag(contact_of("carol"), tag, agent)
    with pytest.raises(TagError, match="computed"):
        do_remove_tag(contact_of("carol"), "detractor", agent)
