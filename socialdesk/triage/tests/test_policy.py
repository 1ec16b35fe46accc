import pytest
import yaml

from socialdesk.triage.actions import active_policy, do_install_policy
from socialdesk.triage.models import ResponsePolicy
from socialdesk.triage.policy import (
    DEFAULT_POLICY_PATH,
    PolicyError,
    decide,
    default_policy,
    parse_policy,
)

DEFAULT = yaml.safe_load(DEFAULT_POLICY_PATH.read_text())


def variant(change) -> str:
    data = yaml.safe_load(DEFAULT_POLICY_PATH.read_text())
    change(data)
    return yaml.safe_dump(data)


def facts(**overrides):
    base = {"category": "complaint", "sentiment": "negative", "channel": "x",
            "visibility": "public", "tier": "", "lang": "en", "cues": set(), "severity": 1,
            "followers": 10, "text": ""}
    return {**base, **overrides}


@pytest.mark.parametrize("change, message", [
    (lambda d: d["rules"][0].update(colour="red"), "unknown field 'colour'"),
    (lambda d: d["rules"][0]["when"].update(mood=["sad"]), "unknown condition 'mood'"),
    (lambda d: d["rules"][0].update(decision="ignore"), "decision must be one of"),
    (lambda d: d["rules"][0]["severity"][1].update(priority="P9"), "priority must be one of"),
    (lambda d: d["rules"][0]["severity"][1].update(first_response="soon"), "not a duration"),
    (lambda d: d["rules"].insert(0, {"name": "all", "decision": "monitor", "reply_mode": "none",
                                     "owner": "care", "severity": {1: {"priority": "P4"}}}),
     "is unreachable"),
    (lambda d: d["rules"].pop(), "the last rule must have no 'when'"),
    (lambda d: d["rules"].append(dict(d["rules"][0])), "defined twice"),
    (lambda d: d["rules"][1]["when"].update(text_matches="(unclosed"), "not a valid pattern"),
])
def test_an_invalid_policy_is_rejected_with_a_clear_message(change, message):
    with pytest.raises(PolicyError, match=message):
        parse_policy(variant(change))


def test_an_invalid_policy_leaves_the_active_one_in_force(db):
    before = active_policy().version
    with pytest.raises(PolicyError):
        do_install_policy("rules: []")
    assert active_policy().version == before
    assert ResponsePolicy.objects.filter(is_active=True).count() == 1


def test_a_new_policy_version_takes_over(db):
    first = active_policy()
    source = variant(lambda d: d["rules"][-1]["severity"][1].update(priority="P3"))
    do_install_policy(source)
    assert active_policy().version == first.version + 1


@pytest.mark.parametrize("given, expected", [
    (facts(), ("respond", "P2", 60, "care")),
    (facts(followers=50_000), ("respond", "P1", 30, "account_owner")),
    (facts(cues={"legal"}), ("escalate", "P0", 30, "care")),
    (facts(category="praise", sentiment="positive"), ("respond", "P4", 1440, "community")),
    (facts(category="spam"), ("hide", "P4", None, "moderation")),
    (facts(category="rant"), ("monitor", "P4", None, "comms")),
    (facts(category="crisis", cues={"safety"}), ("escalate", "P0", 30, "pr")),
    (facts(category="other", sentiment="neutral"), ("monitor", "P4", None, "care")),
])
def test_the_default_matrix_decides_by_category_and_severity(given, expected):
    from socialdesk.triage.policy import severity_of

    policy = default_policy()
    given["severity"], _ = severity_of(policy, given)
    outcome, reasons = decide(policy, given)
    assert (outcome.decision, outcome.priority, outcome.first_response_minutes,
            outcome.owner) == expected
    assert reasons and reasons[0].startswith("policy rule ")


def test_personal_data_in_public_moves_the_reply_private():
    outcome, reasons = decide(default_policy(), facts(cues={"personal_data"}))
    assert outcome.reply_mode == "private"
    assert any("personal-data-in-public" in r for r in reasons)
