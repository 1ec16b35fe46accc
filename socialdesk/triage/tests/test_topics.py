"""Brand topics: keywords and example posts, found in a batch, and seen by policy and routing."""

import json
import pickle

import numpy as np
import pytest

from conftest import post
from socialdesk.cases.models import Case
from socialdesk.demo.setup import SAMPLE, TOPICS
from socialdesk.routing.models import RoutingRule
from socialdesk.triage import queries, spread
from socialdesk.triage.actions import do_install_policy
from socialdesk.triage.engine import PostInput, triage_batch
from socialdesk.triage.models import Topic, Triage
from socialdesk.triage.policy import DEFAULT_POLICY_PATH, default_policy
from socialdesk.triage.topics import (
    TopicError,
    TopicMatcher,
    TopicSpec,
    dump_topics,
    parse_topics,
)

BILLING = TopicSpec("billing", "Billing", keywords=("bill", "refund", "charged twice"),
                    examples=("I was charged twice for my subscription",))
DELIVERY = TopicSpec("delivery", "Delivery", keywords=("parcel", "courier"),
                     examples=("where is my parcel", "my order still hasn't arrived"))


def topics_of(found: list[dict]) -> list[str]:
    return [t["topic"] for t in found]


# Keywords

def test_a_keyword_matches_as_a_whole_word_in_any_case_and_says_which():
    found = TopicMatcher([BILLING, DELIVERY]).match(["Where's my REFUND, @brightkettle?"])
    assert found == [[{"topic": "billing", "by": "keyword 'refund'"}]]


def test_a_keyword_never_matches_inside_a_longer_word():
    matcher = TopicMatcher([TopicSpec("billing", "Billing", keywords=("bill",))])
    assert matcher.match(["a billion thanks", "rebill me", "billing", "bill_2"]) == [[]] * 4
    assert topics_of(matcher.match(["the bill, again"])[0]) == ["billing"]


def test_a_phrase_matches_whatever_the_spacing_between_its_words():
    matcher = TopicMatcher([TopicSpec("billing", "Billing", keywords=("charged twice",))])
    found = matcher.match(["I was Charged\n  twice!", "charged once, twice"])
    assert found[0] == [{"topic": "billing", "by": "keyword 'charged twice'"}]
    assert found[1] == []


def test_overlapping_keywords_of_different_topics_are_all_found():
    machines = TopicSpec("coffee-machines", "Coffee machines", keywords=("coffee machine",))
    coffee = TopicSpec("coffee", "Coffee", keywords=("coffee",))
    faults = TopicSpec("faults", "Faults", keywords=("machine broken",))
    found = TopicMatcher([machines, coffee, faults]).match(["my coffee machine broken again"])
    assert found == [[{"topic": "coffee-machines", "by": "keyword 'coffee machine'"},
                      {"topic": "coffee", "by": "keyword 'coffee'"},
                      {"topic": "faults", "by": "keyword 'machine broken'"}]]


def test_several_keywords_are_all_named_as_evidence():
    found = TopicMatcher([BILLING]).match(["charged twice and no refund"])
    assert found[0][0]["by"].startswith("keywords 'charged twice', 'refund'")


def test_keywords_with_signs_match_only_as_written():
    matcher = TopicMatcher([TopicSpec("emergency", "A&E", keywords=("a&e",))])
    assert topics_of(matcher.match(["ended up in A&E"])[0]) == ["emergency"]
    assert matcher.match(["a and e", "ae"]) == [[], []]


# Examples (few-shot)

def test_a_post_like_an_example_matches_and_names_the_example_and_score():
    found = TopicMatcher([BILLING, DELIVERY]).match(["where is my parcel?? ordered last week"])
    assert found[0][0]["topic"] == "delivery"
    assert "keyword 'parcel'" in found[0][0]["by"]
    assert "like example 'where is my parcel' (0.73)" in found[0][0]["by"]


def test_a_post_matches_an_example_without_any_keyword():
    found = TopicMatcher([DELIVERY]).match(["my order still hasn't arrived, any news?"])
    assert found == [[{"topic": "delivery",
                       "by": "like example \"my order still hasn't arrived\" (0.83)"}]]


def test_a_post_sharing_only_common_words_with_an_example_does_not_match():
    matcher = TopicMatcher([DELIVERY])
    assert matcher.match(["where is my favourite mug, I can't find it anywhere this morning"]) \
        == [[]]


def test_the_threshold_decides_how_alike_is_alike_enough():
    text = ["my order still hasn't come"]
    assert TopicMatcher([DELIVERY], threshold=0.5).match(text)[0]
    assert TopicMatcher([DELIVERY], threshold=0.9).match(text) == [[]]
    with pytest.raises(ValueError, match="threshold"):
        TopicMatcher([DELIVERY], threshold=0)


def test_the_batch_shortcut_finds_exactly_what_comparing_every_post_finds():
    """Only posts that could reach the threshold are vectorised; none may be missed."""
    texts = [json.loads(line)["text"] for line in SAMPLE.read_text().splitlines()]
    texts += ["where is my parcel", "parcel parcel parcel where", "", "!!!", "a", "my my my my"]
    specs = parse_topics(TOPICS.read_text())
    for threshold in (0.2, 0.35, 0.5, 0.7):
        matcher = TopicMatcher(specs, threshold=threshold)
        index = matcher._examples
        similarity = (index.vectorizer.transform(texts) @ index.vectors).toarray()
        expected = set()
        for topic, start, end in zip(index.topics, index.starts,
                                     [*index.starts[1:], len(index.texts)], strict=True):
            for i in np.flatnonzero(similarity[:, start:end].max(axis=1) >= threshold):
                expected.add((int(i), matcher.slugs[topic]))
        found = {(i, t["topic"]) for i, topics in enumerate(matcher.match(texts))
                 for t in topics if "like example" in t["by"]}
        assert found == expected, threshold
        assert expected, "the check needs some matches to mean anything"


def test_an_embedding_hook_replaces_the_hashed_vectors():
    matcher = TopicMatcher([DELIVERY], threshold=0.9, embed=mentions_waiting)
    found = matcher.match(["it never came", "lovely kettle"])
    assert topics_of(found[0]) == ["delivery"] and "like example" in found[0][0]["by"]
    assert found[1] == []


def mentions_waiting(texts):
    """A stand-in embedding: one dimension for waiting, one for everything else."""
    waiting = ("arrived", "came", "where")
    return np.array([[1.0, 0.0] if any(w in t.lower() for w in waiting) else [0.0, 1.0]
                     for t in texts])


# The matcher as a whole

def test_inactive_topics_are_not_looked_for():
    paused = TopicSpec("delivery", "Delivery", keywords=("parcel",), active=False)
    matcher = TopicMatcher([BILLING, paused])
    assert matcher.match(["my parcel and my refund"]) == [
        [{"topic": "billing", "by": "keyword 'refund'"}]]


def test_a_matcher_travels_to_helper_processes_as_its_small_specs():
    matcher = TopicMatcher(parse_topics(TOPICS.read_text()))
    shipped = pickle.dumps(matcher)
    assert len(shipped) < 8_000
    texts = ["charged twice for beans", "the app is down for everyone", "nice weather"]
    assert pickle.loads(shipped).match(texts) == matcher.match(texts)


def test_triage_gives_the_topics_to_the_policy_and_routing_facts():
    posts = [PostInput("x", "1", "charged twice for my subscription this month"),
             PostInput("x", "2", "lovely kettle")]
    results = triage_batch(posts, default_policy(), TopicMatcher([BILLING, DELIVERY]))
    assert results[0].topics == [{"topic": "billing", "by": "keyword 'charged twice'; like "
                                  "example 'I was charged twice for my subscription' (0.75)"}]
    assert results[0].facts(posts[0])["topics"] == {"billing"}
    assert results[1].topics == [] and results[1].facts(posts[1])["topics"] == set()


def test_helper_processes_find_the_same_topics():
    posts = [PostInput("x", str(i), text) for i in range(200)
             for text in ("where is my parcel", "charged twice again", "lovely kettle")]
    matcher = TopicMatcher([BILLING, DELIVERY])
    results = spread.triage_spread(posts, default_policy(), processes=2, topics=matcher)
    assert [r.topics for r in results] == [r.topics for r in
                                           triage_batch(posts, default_policy(), matcher)]
    assert [topics_of(r.topics) for r in results[:3]] == [["delivery"], ["billing"], []]


# YAML

def test_topics_round_trip_through_yaml():
    specs = [BILLING, DELIVERY, TopicSpec("stores", "Stores", ("Harbour Street",), (), False)]
    assert parse_topics(dump_topics(specs)) == specs


def test_yaml_lines_are_tidied_and_repeats_dropped():
    (spec,) = parse_topics("topics:\n- slug: app\n  name: ' App '\n"
                           "  keywords: ['log  in', 'Log in', app]\n  examples: [\"app\\n down\"]")
    assert spec == TopicSpec("app", "App", ("log in", "app"), ("app down",))


@pytest.mark.parametrize("source, message", [
    ("topics: [", "not valid YAML"),
    ("- slug: billing", "expected a mapping with a 'topics' list"),
    ("topics: []\nrules: []", "unknown field 'rules'"),
    ("topics: {slug: billing}", "topics: must be a list"),
    ("topics: [billing]", "topics[0]: must be a mapping"),
    ("topics: [{slug: Billing!, name: B, keywords: [bill]}]",
     "topics[0] (Billing!): slug 'Billing!' must be 1 to 64 lower-case letters"),
    ("topics: [{slug: billing, keywords: [bill]}]", "topics[0] (billing): name must be"),
    ("topics: [{slug: billing, name: Billing}]",
     "topics[0] (billing): needs at least one keyword or example"),
    ("topics: [{slug: billing, name: Billing, keyword: [bill]}]",
     "topics[0] (billing): unknown field 'keyword'"),
    ("topics: [{slug: billing, name: Billing, keywords: bill}]",
     "topics[0] (billing): keywords must be a list"),
    ("topics: [{slug: billing, name: Billing, keywords: [bill, yes]}]",
     "topics[0] (billing): keywords[1] must be text, not True"),
    ("topics: [{slug: billing, name: Billing, keywords: ['refund*']}]",
     "wildcards are not supported"),
    ("topics: [{slug: billing, name: Billing, keywords: ['!!']}]", "has no letter or digit"),
    ("topics: [{slug: billing, name: Billing, examples: ['a b c']}]",
     "examples[0] 'a b c' has no word of two letters or more"),
    ("topics: [{slug: billing, name: Billing, keywords: [bill], active: maybe}]",
     "active must be true or false"),
    ("topics:\n- {slug: billing, name: Billing, keywords: [bill]}\n"
     "- {slug: billing, name: Bills, keywords: [invoice]}",
     "topics[1] (billing): slug 'billing' is already used by topics[0]"),
])
def test_it_rejects_invalid_topics_naming_the_place(source, message):
    with pytest.raises(TopicError) as error:
        parse_topics(source)
    assert message in str(error.value)


def test_the_demo_topics_are_valid_and_each_finds_sample_posts():
    specs = parse_topics(TOPICS.read_text())
    assert len(specs) >= 8
    texts = [json.loads(line)["text"] for line in SAMPLE.read_text().splitlines()]
    found = {t["topic"] for topics in TopicMatcher(specs).match(texts) for t in topics}
    assert found == {spec.slug for spec in specs}


# From the database

def test_there_is_no_matcher_without_active_topics(db):
    assert queries.active_topics() is None
    Topic.objects.create(slug="billing", name="Billing", keywords="refund", is_active=False)
    assert queries.active_topics() is None


def test_the_active_matcher_is_kept_until_a_topic_changes(db):
    topic = Topic.objects.create(slug="billing", name="Billing", keywords="refund\n\ninvoice")
    first = queries.active_topics()
    assert first is queries.active_topics()
    assert topics_of(first.match(["invoice please"])[0]) == ["billing"]

    topic.keywords = "refund\ncharged twice"
    topic.save()
    second = queries.active_topics()
    assert second is not first and second.match(["invoice please"]) == [[]]

    Topic.objects.create(slug="delivery", name="Delivery", keywords="parcel")
    assert topics_of(queries.active_topics().match(["parcel refund"])[0]) == [
        "billing", "delivery"]
    Topic.objects.filter(slug="delivery").delete()
    assert topics_of(queries.active_topics().match(["parcel refund"])[0]) == ["billing"]


# End to end

BILLING_RULE = """  - name: billing-first
    when: {topics: [billing]}
    decision: respond
    reply_mode: private
    owner: care
    severity:
      1: {priority: P1, first_response: 1h}

"""


def test_a_post_about_billing_carries_its_topic_through_policy_and_routing(feed, teams):
    Topic.objects.create(slug="billing", name="Billing", keywords="charged twice\nrefund",
                         examples="I was charged twice for my subscription")
    do_install_policy(DEFAULT_POLICY_PATH.read_text().replace("rules:\n",
                                                              "rules:\n" + BILLING_RULE, 1))
    RoutingRule.objects.create(position=1, name="billing-desk", when={"topics": ["billing"]},
                               team="billing")
    feed(post("1", "Charged twice for my Beans subscription this month, sort it out"),
         post("2", "the kettle is lovely, thank you", author="dan"))

    billing = Triage.objects.get(post__external_id="1")
    assert billing.topics == [{"topic": "billing", "by": "keyword 'charged twice'; like example "
                               "'I was charged twice for my subscription' (0.53)"}]
    assert billing.priority == "P1"
    assert any("billing-first" in reason for reason in billing.reasons)
    assert Case.objects.get(posts__external_id="1").team.slug == "billing"

    other = Triage.objects.get(post__external_id="2")
    assert other.topics == [] and other.priority != "P1"
    assert Case.objects.get(posts__external_id="2").team.slug != "billing"
