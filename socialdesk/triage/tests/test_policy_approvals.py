"""The policy's approvals: which replies wait for a second person, and who that is."""

import pytest
import yaml

from socialdesk.triage.policy import (
    DEFAULT_POLICY_PATH,
    PolicyError,
    approval_needed,
    default_policy,
    parse_policy,
)


def facts(**overrides):
    base = {"category": "complaint", "sentiment": "negative", "channel": "x",
            "visibility": "public", "tier": "", "lang": "en", "cues": set(), "severity": 1,
            "followers": 10, "text": "", "labels": {"complaint"}, "topics": set(),
            "account_owner": "", "repeat_poster": False, "decision": "respond",
            "priority": "P2", "owner": "care"}
    return {**base, **overrides}


def with_approvals(approvals) -> str:
    data = yaml.safe_load(DEFAULT_POLICY_PATH.read_text())
    data["approvals"] = approvals
    return yaml.safe_dump(data, sort_keys=False)


@pytest.mark.parametrize("case_facts, by", [
    (facts(category="crisis", labels={"crisis", "complaint"}, cues={"safety"}), "pr"),
    (facts(cues={"legal"}), "legal"),
    (facts(cues={"safety"}), "legal"),
    (facts(tier="vip"), "supervisor"),
    (facts(tier="customer"), ""),
    (facts(), ""),
])
def test_the_default_policy_asks_pr_legal_or_a_supervisor(case_facts, by):
    assert approval_needed(default_policy(), case_facts)[0] == by


def test_the_reason_names_the_approval_and_its_test():
    assert approval_needed(default_policy(), facts(cues={"legal"})) == (
        "legal", "approval safety-or-legal-needs-legal (cues safety or legal or data_breach)")


def test_an_approval_can_name_policy_rules():
    policy = parse_policy(with_approvals([
        {"name": "misguided-needs-pr", "when": {"rule": ["misguided"]}, "by": "pr"},
        {"name": "loud-complaints", "when": {"rule": ["unhappy-customer"],
                                             "followers_at_least": 5000}, "by": "supervisor"},
    ]))
    assert approval_needed(policy, facts(category="misinformation",
                                         labels={"misinformation"}))[0] == "pr"
    assert approval_needed(policy, facts(followers=9000)) == (
        "supervisor",
        "approval loud-complaints (rule unhappy-customer and followers at least 5000)")
    assert approval_needed(policy, facts(followers=10)) == ("", "")
    assert approval_needed(policy, facts(followers=9000, rule="question")) == ("", "")


def test_a_policy_without_approvals_needs_none():
    data = yaml.safe_load(DEFAULT_POLICY_PATH.read_text())
    del data["approvals"]
    policy = parse_policy(yaml.safe_dump(data))
    assert policy.approvals == () and approval_needed(policy, facts(tier="vip")) == ("", "")


@pytest.mark.parametrize("approvals, message", [
    ({"name": "x"}, "approvals: must be a list"),
    (["legal"], "approvals[0]: an approval must be a mapping"),
    ([{"when": {"cues": ["legal"]}, "by": "legal"}], "approvals[0]: every approval needs a name"),
    ([{"name": "a", "when": {"cues": ["legal"]}, "by": "legal", "colour": "red"}],
     "approval 'a': unknown field 'colour'"),
    ([{"name": "a", "by": "legal"}], "approval 'a': 'when' must be a non-empty condition"),
    ([{"name": "a", "when": {"cues": ["lawyer"]}, "by": "legal"}], "unknown value 'lawyer'"),
    ([{"name": "a", "when": {"mood": ["sad"]}, "by": "legal"}], "unknown condition 'mood'"),
    ([{"name": "a", "when": {"rule": ["no-such-rule"]}, "by": "legal"}],
     "approval 'a': when.rule: 'no-such-rule' is not a rule of this policy"),
    ([{"name": "a", "when": {"rule": "misguided"}, "by": "legal"}],
     "when.rule must be a non-empty list"),
    ([{"name": "a", "when": {"cues": ["legal"]}, "by": "Legal Team"}],
     "by must be supervisor (the case team's escalation chain) or a team slug"),
    ([{"name": "a", "when": {"cues": ["legal"]}}], "approval 'a': by must be"),
    ([{"name": "a", "when": {"cues": ["legal"]}, "by": "legal"},
      {"name": "a", "when": {"tier": ["vip"]}, "by": "supervisor"}],
     "approval 'a' is defined twice"),
])
def test_a_mistake_in_an_approval_is_named(approvals, message):
    with pytest.raises(PolicyError) as error:
        parse_policy(with_approvals(approvals))
    assert message in str(error.value)


def test_an_approval_naming_an_unknown_topic_is_refused_on_install():
    source = with_approvals([{"name": "a", "when": {"topics": ["billing"]}, "by": "legal"}])
    with pytest.raises(PolicyError, match="approval 'a': when.topics: unknown topic 'billing'"):
        parse_policy(source, known_topics={"delivery"})
    assert parse_policy(source, known_topics={"billing"}).approvals[0].by == "legal"


def test_a_policy_with_approvals_survives_pickling_for_the_triage_helpers():
    import pickle

    policy = pickle.loads(pickle.dumps(default_policy()))
    assert approval_needed(policy, facts(tier="vip"))[0] == "supervisor"
