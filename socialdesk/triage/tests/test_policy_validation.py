"""What a policy may say, and how a mistake in it is reported."""

import pickle

import pytest
import yaml

from socialdesk.triage.policy import (
    DEFAULT_POLICY_PATH,
    PolicyError,
    decide,
    default_policy,
    parse_policy,
)


def variant(change) -> str:
    data = yaml.safe_load(DEFAULT_POLICY_PATH.read_text())
    change(data)
    return yaml.safe_dump(data, sort_keys=False)


def rule(name, when=None, **fields):
    if "extends" not in fields:
        defaults = {"decision": "respond", "reply_mode": "public", "owner": "care",
                    "severity": {1: {"priority": "P3", "first_response": "4h"}}}
        fields = {**defaults, **fields}
    fields = {k: v for k, v in fields.items() if v is not None}
    return {"name": name, **({"when": when} if when is not None else {}), **fields}


CATCH_ALL = rule("everything-else", decision="monitor", reply_mode="none",
                 severity={1: {"priority": "P4"}})


def policy_of(*rules, adjustments=(), severity=None) -> str:
    data = {"name": "Test", "rules": [*rules, CATCH_ALL]}
    if adjustments:
        data["adjustments"] = list(adjustments)
    if severity is not None:
        data["severity"] = severity
    return yaml.safe_dump(data, sort_keys=False)


def facts(**overrides):
    base = {"category": "complaint", "sentiment": "negative", "channel": "x",
            "visibility": "public", "tier": "", "lang": "en", "cues": set(), "severity": 1,
            "followers": 10, "text": "", "labels": {"complaint"}, "topics": set(),
            "account_owner": "", "repeat_poster": False}
    return {**base, **overrides}


def rule_for(policy_source: str, **fact_values) -> str:
    outcome, reasons = decide(parse_policy(policy_source), facts(**fact_values))
    return reasons[0].split()[2]


# Every kind of mistake names the place and says what is allowed.
@pytest.mark.parametrize("source, message", [
    (variant(lambda d: d["rules"][0].update(colour="red")),
     r"rule 'crisis-trigger': unknown field 'colour' \(allowed: decision, extends,"),
    (variant(lambda d: d.update(colour="red")), r"policy: unknown field 'colour'"),
    (variant(lambda d: d["rules"][0]["when"].update(mood=["sad"])),
     r"rule 'crisis-trigger': unknown condition 'mood' in when \(known: account, any, category,"),
    (variant(lambda d: d["rules"][0]["when"].update(category=["crisis", "disaster"])),
     r"rule 'crisis-trigger': when.category: unknown value 'disaster' "
     r"\(allowed: complaint, question, praise"),
    (policy_of(rule("r", {"sentiment": ["angry"]})),
     r"rule 'r': when.sentiment: unknown value 'angry' \(allowed: negative, neutral, positive\)"),
    (policy_of(rule("r", {"cues": ["lawsuit"]})),
     r"rule 'r': when.cues: unknown value 'lawsuit' \(allowed: safety, legal, regulator, press, "
     r"fraud, data_breach, churn, outage, personal_data, volume_spike\)"),
    (policy_of(rule("r", {"visibility": ["secret"]})), r"when.visibility: unknown value 'secret'"),
    (policy_of(rule("r", {"labels": ["complaint", "moan"]})), r"when.labels: unknown value 'moan'"),
    (policy_of(rule("r", {"category": "complaint"})),
     r"rule 'r': when.category: must be a non-empty list, such as \[complaint\]"),
    (policy_of(rule("r", {"repeat_poster": "yes"})),
     r"rule 'r': when.repeat_poster: must be true or false"),
    (policy_of(rule("r", {"severity_at_least": 4})),
     r"when.severity_at_least: must be a whole number from 1 to 3"),
    (policy_of(rule("r", {"keywords": []})),
     r"rule 'r': when.keywords: must be a non-empty list of words or phrases"),
    (policy_of(rule("r", {"any": [{"category": ["complaint"]}, {"tier": ["VIP!"]}]})),
     r"rule 'r': when.any\[1\].tier: unknown value 'VIP!'"),
    (policy_of(rule("r", {"not": {"decision": ["respond"]}})),
     r"rule 'r': unknown condition 'decision' in when.not"),
    (policy_of(rule("r", {"not": {}})), r"when.not: must be a non-empty condition"),
    (variant(lambda d: d["rules"][0].update(decision="ignore")),
     r"rule 'crisis-trigger': decision must be one of respond, escalate, monitor, let_stand, "
     r"hide, not 'ignore'"),
    (variant(lambda d: d["rules"][0]["severity"][1].update(priority="P9")),
     r"rule 'crisis-trigger' severity 1: priority must be one of P0, P1, P2, P3, P4"),
    (variant(lambda d: d["rules"][0]["severity"][1].update(first_response="soon")),
     r"rule 'crisis-trigger' severity 1: first_response: 'soon' is not a duration such as 30m"),
    (variant(lambda d: d["rules"][0]["severity"][1].update(first_response="0m")),
     r"'0m' is not a duration"),
    (variant(lambda d: d["rules"][0]["severity"].update({4: {"priority": "P0"}})),
     r"rule 'crisis-trigger': severity 4: severity levels are 1, 2 and 3"),
    (variant(lambda d: d["rules"][1]["when"].update(text_matches="(unclosed")),
     r"rule 'spam': when.text_matches: not a valid pattern"),
    (variant(lambda d: d["rules"].pop()),
     r"the last rule must have no 'when', so that every post gets a decision"),
    (variant(lambda d: d["rules"].insert(0, CATCH_ALL)),
     r"rule 'crisis-trigger' is unreachable: rule 'everything-else' before it matches every post"),
    (variant(lambda d: d["rules"].append(dict(d["rules"][0]))), r"defined twice"),
    (variant(lambda d: d["severity"].update(s3_cues=["safety", "gossip"])),
     r"severity.s3_cues: unknown cue 'gossip' \(allowed: safety,"),
    (variant(lambda d: d["adjustments"][0]["set"].update(colour="red")),
     r"adjustment 'personal-data-in-public': set: unknown field 'colour' \(allowed: decision,"),
    (variant(lambda d: d["adjustments"][0]["when"].update(cues=["gossip"])),
     r"adjustment 'personal-data-in-public': when.cues: unknown value 'gossip'"),
    (variant(lambda d: d["adjustments"][1]["when"].update(decision=["hold"])),
     r"adjustment 'churn-risk': when.decision: unknown value 'hold'"),
    ("rules: [", r"not valid YAML"),
    ("- just a list", r"a policy must be a YAML mapping"),
])
def test_it_rejects_a_mistake_naming_the_place_and_what_is_allowed(source, message):
    with pytest.raises(PolicyError, match=message):
        parse_policy(source)


def test_it_rejects_a_rule_that_an_earlier_narrower_rule_cannot_leave_anything_for():
    source = policy_of(rule("complaints", {"category": ["complaint"]}),
                       rule("complaints-on-x", {"category": ["complaint"], "channel": ["x"]}))
    with pytest.raises(PolicyError, match=r"rule 'complaints-on-x' is unreachable: rule "
                                          r"'complaints' before it \(category complaint\) "
                                          r"matches every post it could match"):
        parse_policy(source)


@pytest.mark.parametrize("earlier, later", [
    ({"cues": ["legal", "press"]}, {"cues": ["legal"], "sentiment": ["negative"]}),
    ({"category": ["complaint", "rant"]}, {"category": ["rant"]}),
    ({"severity_at_least": 2}, {"severity_at_least": 3}),
    ({"followers_at_least": 1000}, {"followers_at_least": 5000, "channel": ["x"]}),
    ({"keywords": ["refund", "money back"]}, {"keywords": ["Money  back"]}),
    ({"text_matches": "refund"}, {"text_matches": "refund", "channel": ["x"]}),
    ({"repeat_poster": True}, {"repeat_poster": True, "category": ["complaint"]}),
    ({"any": [{"category": ["praise"]}, {"cues": ["churn"]}]}, {"cues": ["churn"]}),
    ({"not": {"tier": ["vip"]}}, {"tier": ["customer"]}),
    ({"not": {"tier": ["vip"]}}, {"not": {"tier": ["vip", "customer"]}}),
    ({"category": ["complaint", "rant"]},
     {"any": [{"category": ["complaint"]}, {"category": ["rant"]}], "channel": ["x"]}),
])
def test_it_finds_a_later_rule_that_can_never_fire(earlier, later):
    with pytest.raises(PolicyError, match=r"rule 'later' is unreachable: rule 'earlier'"):
        parse_policy(policy_of(rule("earlier", earlier), rule("later", later)))


@pytest.mark.parametrize("earlier, later", [
    ({"category": ["complaint"], "channel": ["x"]}, {"category": ["complaint"]}),
    ({"severity_at_least": 3}, {"severity_at_least": 2}),
    ({"text_matches": "refund"}, {"text_matches": "refund|money back"}),
    ({"keywords": ["refund"]}, {"keywords": ["refund", "money back"]}),
    ({"text_matches": "refund"}, {"keywords": ["refund"]}),
    ({"not": {"tier": ["vip"]}}, {"category": ["complaint"]}),
    ({"any": [{"category": ["praise"]}, {"cues": ["churn"]}]}, {"category": ["complaint"]}),
    ({"labels": ["complaint"]}, {"category": ["complaint"]}),
])
def test_it_keeps_a_later_rule_that_might_fire(earlier, later):
    policy = parse_policy(policy_of(rule("earlier", earlier), rule("later", later)))
    assert [r.name for r in policy.rules] == ["earlier", "later", "everything-else"]


def test_a_rule_extends_another_and_overrides_what_it_states():
    policy = parse_policy(variant(lambda d: d["rules"].insert(2, {
        "name": "vip-praise", "extends": "positive",
        "when": {"category": ["praise"], "tier": ["vip"]},
        "owner": "pr", "severity": {2: {"priority": "P2"}},
    })))
    vip = next(r for r in policy.rules if r.name == "vip-praise")
    low, high = vip.outcome(1), vip.outcome(2)
    assert (low.decision, low.reply_mode, low.owner, low.priority,
            low.first_response_minutes) == ("respond", "public", "pr", "P4", 1440)
    # Level 2 keeps the parent's level-2 target and takes its own priority.
    assert (high.priority, high.first_response_minutes, high.owner) == ("P2", 240, "pr")


def test_a_field_stated_for_every_severity_overrides_the_parents_per_severity_value():
    policy = parse_policy(policy_of(
        rule("base-rule", {"category": ["question"]},
             severity={1: {"priority": "P3", "first_response": "4h"},
                       2: {"priority": "P2", "first_response": "1h"}}),
        rule("quick", {"category": ["praise"]}, extends="base-rule", first_response="30m"),
    ))
    quick = policy.rules[1]
    assert [quick.outcome(s).first_response_minutes for s in (1, 2)] == [30, 30]
    assert [quick.outcome(s).priority for s in (1, 2)] == ["P3", "P2"]


def test_extends_is_resolved_whatever_the_order_of_the_rules():
    policy = parse_policy(policy_of(
        rule("child", {"category": ["praise"]}, extends="parent"),
        rule("parent", {"category": ["question"]}, owner="community"),
    ))
    assert policy.rules[0].outcome(1).owner == "community"


def test_it_rejects_extending_a_rule_that_does_not_exist():
    with pytest.raises(PolicyError, match=r"rule 'child': extends 'nobody', which is not a rule "
                                          r"\(rules: child, everything-else\)"):
        parse_policy(policy_of(rule("child", {"category": ["praise"]}, extends="nobody")))


def test_it_rejects_rules_that_extend_each_other_naming_the_cycle():
    source = policy_of(rule("a", {"category": ["praise"]}, extends="b"),
                       rule("b", {"category": ["question"]}, extends="c"),
                       rule("c", {"category": ["rant"]}, extends="a"))
    with pytest.raises(PolicyError, match=r"rules extend each other in a cycle: a → b → c → a"):
        parse_policy(source)


def test_it_rejects_a_rule_that_extends_itself():
    with pytest.raises(PolicyError, match=r"cycle: a → a"):
        parse_policy(policy_of(rule("a", {"category": ["praise"]}, extends="a")))


def test_it_rejects_a_rule_that_lacks_a_field_even_after_extends():
    source = policy_of(rule("r", {"category": ["praise"]}, owner=None))
    with pytest.raises(PolicyError, match=r"rule 'r' severity 1: missing owner"):
        parse_policy(source)


def test_it_rejects_an_adjustment_that_tests_an_owner_no_rule_gives():
    source = variant(lambda d: d["adjustments"].append(
        {"name": "sales-leads", "when": {"owner": ["sales"]}, "set": {"reply_mode": "private"}}))
    with pytest.raises(PolicyError, match=r"adjustment 'sales-leads': when.owner: no rule or "
                                          r"earlier adjustment gives owner 'sales'"):
        parse_policy(source)


def test_an_adjustment_may_test_an_owner_an_earlier_adjustment_gives():
    source = variant(lambda d: d["adjustments"].extend([
        {"name": "to-sales", "when": {"keywords": ["quote"]}, "set": {"owner": "sales"}},
        {"name": "sales-private", "when": {"owner": ["sales"]}, "set": {"reply_mode": "private"}},
    ]))
    outcome, reasons = decide(parse_policy(source),
                              facts(category="question", text="can I get a quote?"))
    assert (outcome.owner, outcome.reply_mode) == ("sales", "private")
    assert reasons[1:] == ["adjustment to-sales: owner sales",
                           "adjustment sales-private: reply_mode private"]


def test_it_rejects_topics_the_desk_does_not_know_when_told_its_topics():
    source = policy_of(rule("billing", {"topics": ["billing"]}))
    assert parse_policy(source).rules[0].name == "billing"
    with pytest.raises(PolicyError, match=r"rule 'billing': when.topics: unknown topic "
                                          r"'billing' \(the desk's topics: delivery\)"):
        parse_policy(source, known_topics={"delivery"})


# The new conditions.
@pytest.mark.parametrize("when, matching, not_matching", [
    ({"labels": ["abuse"]}, {"labels": {"complaint", "abuse"}}, {"labels": {"complaint"}}),
    ({"topics": ["billing", "delivery"]}, {"topics": {"delivery"}}, {"topics": {"warranty"}}),
    ({"keywords": ["refund", "money back"]}, {"text": "I want my MONEY\nback"},
     {"text": "refunds are slow; my moneyback card"}),
    ({"keywords": ["c++"]}, {"text": "about c++ support"}, {"text": "about c support"}),
    ({"repeat_poster": True}, {"repeat_poster": True}, {"repeat_poster": False}),
    ({"repeat_poster": False}, {"repeat_poster": False}, {"repeat_poster": True}),
    ({"has_account_owner": True}, {"account_owner": "dana"}, {"account_owner": ""}),
    ({"has_account_owner": False}, {"account_owner": ""}, {"account_owner": "dana"}),
    ({"any": [{"category": ["praise"]}, {"cues": ["churn"]}]}, {"cues": {"churn"}},
     {"category": "question"}),
    ({"category": ["complaint"], "not": {"tier": ["vip"]}}, {"tier": "customer"},
     {"tier": "vip"}),
    ({"not": {"any": [{"channel": ["email"]}, {"visibility": ["private"]}]}},
     {"channel": "x"}, {"channel": "email"}),
])
def test_each_condition_holds_for_the_facts_it_names(when, matching, not_matching):
    source = policy_of(rule("special", when, owner="pr"))
    assert rule_for(source, **matching) == "special"
    assert rule_for(source, **not_matching) == "everything-else"


def test_a_condition_on_labels_reads_the_category_when_labels_are_missing():
    source = policy_of(rule("special", {"labels": ["complaint"]}))
    given = facts()
    del given["labels"]
    _, reasons = decide(parse_policy(source), given)
    assert reasons[0].startswith("policy rule special (labels complaint)")


def test_a_reason_describes_the_new_conditions_in_words():
    source = policy_of(rule("special", {"keywords": ["refund"], "not": {"tier": ["vip"]},
                                        "has_account_owner": False}))
    _, reasons = decide(parse_policy(source), facts(text="refund please"))
    assert reasons[0] == ("policy rule special (keywords 'refund' and not (tier vip) and not "
                          "has account owner): respond, P3")


def test_a_compiled_policy_survives_the_trip_to_a_helper_process():
    source = policy_of(rule("special", {"keywords": ["refund"], "any": [
        {"category": ["complaint"]}, {"not": {"tier": ["vip"]}}]}))
    policy = pickle.loads(pickle.dumps(parse_policy(source)))
    assert decide(policy, facts(text="a refund"))[1][0].startswith("policy rule special")
    assert decide(default_policy(), facts())[0] == \
        decide(pickle.loads(pickle.dumps(default_policy())), facts())[0]


# --------------------------------------------------------------------------
# Severity: the brand's own accounts (S2) and volume spikes (S3)
# --------------------------------------------------------------------------

def spike_policy(volume_spike) -> str:
    return variant(lambda d: d.update(volume_spike=volume_spike))


@pytest.mark.parametrize("source, message", [
    (variant(lambda d: d["severity"].update(s2_accounts="kettleco_help")),
     r"severity.s2_accounts must be a list of the brand's account handles, e.g. "
     r"\[kettleco_help\], or \[\"\*\"\] for any of them"),
    (variant(lambda d: d["severity"].update(s2_accounts=[3])),
     r"severity.s2_accounts must be a list"),
    (variant(lambda d: d["severity"].update(s2_accounts=["kettle co"])),
     r"severity.s2_accounts: 'kettle co' is not an account handle \(such as kettleco_help"),
    (variant(lambda d: d["severity"].update(s2_account=["*"])),
     r"severity: unknown field 's2_account' \(allowed: high_reach_followers, s2_accounts, "
     r"s2_tiers, s3_cues\)"),
    (spike_policy("sometimes"),
     r"volume_spike: must be a mapping of window, baseline, factor, min_posts and keys, or "
     r"off; not 'sometimes'"),
    (spike_policy({"window": "1h", "colour": "red"}),
     r"volume_spike: unknown field 'colour' \(allowed: baseline, factor, keys, min_posts, "
     r"window\)"),
    (spike_policy({"window": "soon"}),
     r"volume_spike.window: 'soon' is not a duration such as 30m, 4h or 1d"),
    (spike_policy({"window": None}),
     r"volume_spike.window: None is not a duration such as 30m, 4h or 1d"),
    (spike_policy({"window": "10m"}),
     r"volume_spike.window: '10m' is not a whole number of quarter hours \(15m, 30m, 1h, …\)"),
    (spike_policy({"window": "2d", "baseline": "7d"}),
     r"volume_spike.window: at most 1d \(a spike is a burst\), not '2d'"),
    (spike_policy({"baseline": "0d"}),
     r"volume_spike.baseline: '0d' is not a duration"),
    (spike_policy({"baseline": "45d"}),
     r"volume_spike.baseline: at most 30d \(older counts are not kept\), not '45d'"),
    (spike_policy({"window": "1h", "baseline": "1h"}),
     r"volume_spike.baseline: '1h' must be longer than the window \('1h'\)"),
    (spike_policy({"window": "4h", "baseline": "2h"}),
     r"volume_spike.baseline: '2h' must be longer than the window \('4h'\)"),
    (spike_policy({"factor": 1}),
     r"volume_spike.factor must be a number greater than 1 \(how many times the usual rate "
     r"makes a spike\), not 1"),
    (spike_policy({"factor": 0.5}), r"volume_spike.factor must be a number greater than 1"),
    (spike_policy({"factor": "4"}), r"volume_spike.factor must be a number .*, not '4'"),
    (spike_policy({"factor": True}), r"volume_spike.factor must be a number"),
    (spike_policy({"factor": float("inf")}), r"volume_spike.factor must be a number"),
    (spike_policy({"min_posts": 0}),
     r"volume_spike.min_posts must be a whole number of at least 1, not 0"),
    (spike_policy({"min_posts": 2.5}), r"volume_spike.min_posts must be a whole number"),
    (spike_policy({"keys": []}),
     r"volume_spike.keys must be a non-empty list of what is watched: topics and/or cue "
     r"names, e.g. \[topics, outage\] \(allowed: topics, safety, legal"),
    (spike_policy({"keys": "topics"}), r"volume_spike.keys must be a non-empty list"),
    (spike_policy({"keys": ["topics", "weather"]}),
     r"volume_spike.keys: unknown key 'weather' \(allowed: topics, safety, legal, regulator, "
     r"press, fraud, data_breach, churn, outage, personal_data\)"),
    (spike_policy({"keys": ["volume_spike"]}),
     r"volume_spike.keys: volume_spike cannot watch itself"),
    (variant(lambda d: d["severity"].update(s3_cues=["safety", "spike"])),
     r"severity.s3_cues: unknown cue 'spike' \(allowed: .*personal_data, volume_spike\)"),
])
def test_it_rejects_a_bad_severity_modifier_naming_the_field(source, message):
    with pytest.raises(PolicyError, match=message):
        parse_policy(source)


def test_the_default_policy_counts_the_brands_accounts_and_volume_spikes():
    policy = default_policy()
    assert policy.s2_accounts == {"*"}
    assert "volume_spike" in policy.s3_cues
    spike = policy.volume_spike
    assert (spike.window_minutes, spike.baseline_minutes, spike.factor, spike.min_posts) == \
        (60, 7 * 24 * 60, 4.0, 20)
    # Every topic and every cue but the spike's own is watched.
    assert spike.topics and spike.cues == {"safety", "legal", "regulator", "press", "fraud",
                                           "data_breach", "churn", "outage", "personal_data"}


@pytest.mark.parametrize("written", ["off", False, None])
def test_volume_spikes_can_be_turned_off(written):
    assert parse_policy(spike_policy(written)).volume_spike is None
    assert parse_policy(policy_of()).volume_spike is None  # no key: off


def test_a_volume_spike_field_left_out_takes_the_default():
    spike = parse_policy(spike_policy({"window": "30m", "keys": ["outage", "safety"]}))
    assert spike.volume_spike.window_minutes == 30
    assert spike.volume_spike.baseline_minutes == 7 * 24 * 60
    assert spike.volume_spike.min_posts == 20
    assert not spike.volume_spike.topics
    assert spike.volume_spike.cues == {"outage", "safety"}


def test_s2_accounts_are_read_as_posts_store_them():
    policy = parse_policy(variant(lambda d: d["severity"].update(
        s2_accounts=["@KettleCo_Help", "kettleco_community"])))
    assert policy.s2_accounts == {"kettleco_help", "kettleco_community"}


def test_a_policy_with_the_new_fields_still_pickles_for_the_helper_processes():
    policy = default_policy()
    again = pickle.loads(pickle.dumps(policy))
    assert again.volume_spike == policy.volume_spike
    assert again.s2_accounts == policy.s2_accounts
