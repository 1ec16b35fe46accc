"""Routing rules: every condition kind decides a route, first match wins, and the
route says which rule matched and why."""

import pytest

from socialdesk.routing.rules import RoutingError, parse_rules, route

BASE_FACTS = {
    "category": "question", "sentiment": "neutral", "channel": "x", "visibility": "public",
    "decision": "respond", "priority": "P3", "owner": "care", "tier": "", "lang": "en",
    "cues": set(), "severity": 1, "followers": 40, "text": "how do I descale it?",
    "labels": {"question"}, "topics": set(), "account_owner": "", "repeat_poster": False,
    "account": "kettleco",
}

# (condition, facts that meet it, facts that do not)
CASES = {
    "category": ({"category": ["complaint"]}, {"category": "complaint"}, {}),
    "labels": ({"labels": ["abuse"]}, {"labels": {"complaint", "abuse"}}, {}),
    "sentiment": ({"sentiment": ["negative"]}, {"sentiment": "negative"}, {}),
    "severity": ({"severity_at_least": 2}, {"severity": 3}, {"severity": 1}),
    "priority": ({"priority": ["P0", "P1"]}, {"priority": "P1"}, {}),
    "decision": ({"decision": ["escalate"]}, {"decision": "escalate"}, {}),
    "cues": ({"cues": ["safety"]}, {"cues": {"safety", "churn"}}, {"cues": {"churn"}}),
    "topics": ({"topics": ["billing"]}, {"topics": {"billing"}}, {"topics": {"delivery"}}),
    "channel": ({"channel": ["facebook"]}, {"channel": "facebook"}, {}),
    "brand account": ({"account": ["@KettleCo_Help"]}, {"account": "kettleco_help"}, {}),
    "visibility": ({"visibility": ["private"]}, {"visibility": "private"}, {}),
    "tier": ({"tier": ["vip"]}, {"tier": "vip"}, {"tier": "customer"}),
    "followers": ({"followers_at_least": 10000}, {"followers": 25000}, {"followers": None}),
    "account owner": ({"has_account_owner": True}, {"account_owner": "ana"}, {}),
    "repeat poster": ({"repeat_poster": True}, {"repeat_poster": True}, {}),
    "language": ({"lang": ["pt"]}, {"lang": "pt"}, {}),
    "policy owner team": ({"owner": ["pr"]}, {"owner": "pr"}, {}),
    "keywords": ({"keywords": ["enterprise plan"]},
                 {"text": "Pricing for the Enterprise  plan?"},
                 {"text": "my enterprise planner broke"}),
    "text pattern": ({"text_matches": r"order\s+#?\d{5}"}, {"text": "order #12345 late"}, {}),
    "any": ({"any": [{"tier": ["vip"]}, {"followers_at_least": 10000}]},
            {"followers": 20000}, {"tier": "customer"}),
    "not": ({"not": {"channel": ["email"]}}, {}, {"channel": "email"}),
}


@pytest.mark.parametrize("kind", CASES)
def test_each_condition_kind_routes_the_posts_it_describes_and_only_those(kind):
    when, meets, misses = CASES[kind]
    rules = parse_rules({"fallback": "care", "rules": [
        {"name": "special", "when": when, "team": "special-team"}]})
    chosen = route(rules, {**BASE_FACTS, **meets})
    assert (chosen.team, chosen.rule) == ("special-team", "special")
    assert "route rule special" in chosen.reason
    missed = route(rules, {**BASE_FACTS, **misses})
    assert (missed.team, missed.rule) == ("care", "policy-owner")


def test_the_first_matching_rule_wins():
    rules = parse_rules({"rules": [
        {"name": "legal", "when": {"cues": ["legal"]}, "team": "legal"},
        {"name": "complaints", "when": {"category": ["complaint"]}, "team": "care"},
    ]})
    facts = {**BASE_FACTS, "category": "complaint", "cues": {"legal"}}
    assert route(rules, facts).rule == "legal"


def test_a_rule_can_send_the_case_to_the_contacts_account_owner():
    rules = parse_rules({"fallback": "care", "rules": [
        {"name": "known-customers", "when": {"tier": ["vip"]}, "team": "account_owner"}]})
    owned = route(rules, {**BASE_FACTS, "tier": "vip", "account_owner": "ana"})
    assert (owned.owner, owned.team) == ("ana", "care")
    assert "account owner ana" in owned.reason
    ownerless = route(rules, {**BASE_FACTS, "tier": "vip"})
    assert (ownerless.owner, ownerless.team) == ("", "care")
    assert "no account owner" in ownerless.reason


@pytest.mark.parametrize("data, message", [
    ({"rules": [{"name": "x", "when": {"mood": ["sad"]}, "team": "care"}]},
     "unknown condition 'mood'"),
    ({"rules": [{"name": "x", "when": {"priority": ["P9"]}, "team": "care"}]},
     "unknown value 'P9'"),
    ({"rules": [{"name": "x", "when": {}, "team": "Care Team"}]}, "team slug"),
    ({"rules": [], "extra": 1}, "unknown field 'extra'"),
    ({"rules": [{"name": "x", "when": {"account": ["kettle co"]}, "team": "care"}]},
     "unknown value 'kettle co'.*brand's account"),
])
def test_bad_rules_are_refused_with_a_clear_message(data, message):
    with pytest.raises(RoutingError, match=message):
        parse_rules(data)
