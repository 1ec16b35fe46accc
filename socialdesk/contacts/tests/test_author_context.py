"""What the desk knows of a post's author when it judges the post."""

from datetime import datetime, timedelta

from conftest import post
from socialdesk.cases.models import Case
from socialdesk.contacts.models import Contact, Identity
from socialdesk.contacts.queries import REPEAT_POSTER_POSTS, REPEAT_WINDOW, author_context
from socialdesk.ingestion.models import Post
from socialdesk.ingestion.queries import post_rows
from socialdesk.routing.models import RoutingRule
from socialdesk.triage.models import Triage

START = datetime.fromisoformat("2026-11-01T09:00:00+00:00")


def at(days: float) -> str:
    return (START + timedelta(days=days)).isoformat()


def context_of(external_id: str) -> dict:
    row = post_rows([Post.objects.get(external_id=external_id).pk])[0]
    return author_context([row])[row.id]


def test_a_vip_repeat_poster_with_an_account_owner_is_judged_as_one(feed, agent):
    feed(*(post(f"early-{i}", f"still no refund, day {i}", at=at(i)) for i in range(3)))
    Contact.objects.filter(identities__handle="carol").update(tier="vip", account_owner=agent)
    RoutingRule.objects.create(position=1, name="repeat-posters", when={"repeat_poster": True},
                               team="comms")
    feed(post("latest", "a fourth time: where is my refund?", at=at(5)))

    triage = Triage.objects.get(post__external_id="latest")
    assert triage.author == {"followers": None, "tier": "vip", "account_owner": "alice",
                             "recent_posts": 3, "repeat_poster": True}
    # The policy and the routing saw the same: VIP is severity 2, the rule sent it to comms.
    assert triage.severity == 2
    assert Case.objects.get(posts__external_id="latest").team.slug == "comms"


def test_a_first_time_author_is_no_repeat_poster(feed):
    feed(post("1", "hello, does the kettle come in green?", author_followers=250))
    assert Triage.objects.get(post__external_id="1").author == {
        "followers": 250, "tier": "", "account_owner": "", "recent_posts": 0,
        "repeat_poster": False}


def test_only_the_contacts_own_posts_of_the_window_before_count(feed):
    feed(post("too-old", "first", at=at(0)),
         *(post(f"in-{i}", "again", at=at(1 + i)) for i in range(REPEAT_POSTER_POSTS - 1)),
         post("someone-else", "me too", author="dan", at=at(5)),
         post("now", "and again", at=at(30.5)),
         post("later", "and later", at=at(31)))
    context = context_of("now")
    assert REPEAT_WINDOW == timedelta(days=30)
    assert context["recent_posts"] == REPEAT_POSTER_POSTS - 1
    assert context["repeat_poster"] is False
    assert context_of("later")["recent_posts"] == REPEAT_POSTER_POSTS
    assert context_of("later")["repeat_poster"] is True


def test_followers_come_from_the_post_else_from_the_authors_identity(feed):
    feed(post("1", "hi", author_followers=900, at=at(0)), post("2", "hi again", at=at(1)))
    Identity.objects.filter(handle="carol").update(followers=1200)
    assert context_of("1")["followers"] == 900
    assert context_of("2")["followers"] == 1200


def test_author_context_costs_one_query_whatever_the_batch(feed, django_assert_num_queries):
    feed(*(post(str(i), f"post {i}", author=f"user{i % 7}", at=at(i / 10)) for i in range(40)))
    rows = post_rows(list(Post.objects.values_list("pk", flat=True)))
    with django_assert_num_queries(1):
        assert len(author_context(rows[:1])) == 1
    with django_assert_num_queries(1):
        context = author_context(rows)
    assert len(context) == 40
    last = max(rows, key=lambda r: r.created_at)
    assert context[last.id]["recent_posts"] == 5  # user4 posted 6 times before, 0.7 days apart
    with django_assert_num_queries(0):
        assert author_context([]) == {}
