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


def accounts_policy(accounts):
    return parse_policy(variant(lambda d: d["severity"].update(s2_accounts=accounts)))


ON_HELP = (2, "severity S2: on the brand's account @kettleco_help")


@pytest.mark.parametrize("accounts, account, expected", [
    (["kettleco_help"], "kettleco_help", ON_HELP),
    (["@KettleCo_Help"], "kettleco_help", ON_HELP),
    (["kettleco_help", "kettleco_community"], "kettleco_help", ON_HELP),
    (["kettleco_help"], "kettleco_community", (1, "severity S1")),
    (["kettleco_help"], "", (1, "severity S1")),
    (["*"], "kettleco_community", (2, "severity S2: on the brand's account @kettleco_community")),
    (["*"], "", (1, "severity S1")),
    ([], "kettleco_help", (1, "severity S1")),
])
def test_a_post_on_a_listed_brand_account_is_s2(accounts, account, expected):
    from socialdesk.triage.policy import severity_of

    assert severity_of(accounts_policy(accounts), facts(account=account)) == expected


@pytest.mark.parametrize("given, reason", [
    # S3 cues come first, whatever else holds.
    (facts(cues={"volume_spike"}, tier="vip", account="kettleco_help", followers=50_000),
     "severity S3: volume_spike cue"),
    (facts(cues={"legal", "volume_spike"}), "severity S3: legal, volume_spike cue"),
    # Then who the author is, then the brand's account, then reach.
    (facts(tier="vip", account="kettleco_help", followers=50_000), "severity S2: known vip"),
    (facts(account="kettleco_help", followers=50_000),
     "severity S2: on the brand's account @kettleco_help"),
    (facts(followers=50_000), "severity S2: high reach (50,000 followers)"),
    (facts(), "severity S1"),
])
def test_severity_modifiers_apply_in_order(given, reason):
    from socialdesk.triage.policy import severity_of

    assert severity_of(default_policy(), given)[1] == reason


def test_judge_gives_the_severity_the_outcome_and_every_reason():
    from socialdesk.triage.policy import judge

    given = facts(cues={"volume_spike"})
    severity, outcome, reasons = judge(default_policy(), given)
    assert (severity, outcome.decision, outcome.priority) == (3, "escalate", "P0")
    assert given["severity"] == 3
    assert reasons[0] == "severity S3: volume_spike cue"
    assert reasons[1].startswith("policy rule unhappy-customer ")
