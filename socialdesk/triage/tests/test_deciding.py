"""A policy remembers its decisions by the facts its tests read; remembering must
never change a decision."""

import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from socialdesk.lib import conditions
from socialdesk.triage.policy import DEFAULT_POLICY_PATH, decide, default_policy, parse_policy
from socialdesk.triage.policy.deciding import _decide

WITH_KEYWORDS = DEFAULT_POLICY_PATH.read_text().replace("rules:\n", """rules:
  - name: refunds-first
    when: {keywords: [refund]}
    decision: respond
    reply_mode: private
    owner: billing
    severity:
      1: {priority: P1, first_response: 1h}

""", 1)

some = st.sampled_from
post_facts = st.fixed_dictionaries({
    "category": some(conditions.CATEGORIES), "sentiment": some(conditions.SENTIMENTS),
    "channel": some(["x", "facebook", "email"]), "visibility": some(["public", "private"]),
    "tier": some(["", "customer", "vip"]), "lang": some(["en", "de"]),
    "cues": st.sets(some(conditions.CUES), max_size=3), "severity": some([1, 2, 3]),
    "followers": some([None, 10, 50_000]), "text": some(["", "where is my refund", "hi"]),
    "labels": st.sets(some(conditions.CATEGORIES), max_size=2),
    "topics": st.sets(some(["billing", "delivery"]), max_size=2),
    "account_owner": some(["", "dana"]), "repeat_poster": st.booleans(),
    "account": some(["", "kettleco_help"]),
})


def test_the_facts_a_condition_reads_include_those_inside_any_and_not():
    condition = conditions.parse({"channel": ["x"], "labels": ["complaint"],
                                  "any": [{"cues": ["outage"]}, {"not": {"tier": ["vip"]}}],
                                  "followers_at_least": 10, "has_account_owner": True},
                                 "test")
    assert condition.reads() == {"channel", "labels", "category", "cues", "tier", "followers",
                                 "account_owner"}
    assert conditions.parse({"keywords": ["refund"]}, "test").reads() == {"text"}


def test_the_built_in_policy_decides_on_a_few_facts_and_a_keyword_policy_on_each_text():
    assert default_policy().decision_keys == ("account", "category", "cues", "severity",
                                              "visibility")
    assert parse_policy(WITH_KEYWORDS).decision_keys is None


@settings(max_examples=300, deadline=None)
@given(facts=post_facts)
def test_a_remembered_decision_is_the_decision(facts):
    for policy in (default_policy(), parse_policy(WITH_KEYWORDS)):
        expected = _decide(policy, dict(facts))
        assert decide(policy, dict(facts)) == expected
        assert decide(policy, dict(facts)) == expected  # the second time, from memory


def test_reasons_handed_out_can_be_changed_without_touching_the_memory():
    policy = default_policy()
    facts = {"category": "complaint", "cues": set(), "severity": 1, "visibility": "public"}
    _, reasons = decide(policy, dict(facts))
    reasons.append("routed somewhere")
    assert "routed somewhere" not in decide(policy, dict(facts))[1]


def test_the_memory_stays_at_home_when_a_policy_travels_to_a_helper_process():
    policy = default_policy()
    decide(policy, {"category": "praise", "cues": set(), "severity": 1, "visibility": "public"})
    assert policy.decisions
    copy = pickle.loads(pickle.dumps(policy))
    assert copy.decisions == {} and copy.decision_keys == policy.decision_keys
    assert copy == policy
