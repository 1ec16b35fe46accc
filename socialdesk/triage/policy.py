"""The response matrix as data: parse, validate and apply a policy.

A policy is YAML (see default_policy.yaml). Loading it checks every field, so
an invalid policy is rejected with a message that names the place, and the
active one stays in force.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from socialdesk.lib import conditions

DEFAULT_POLICY_PATH = Path(__file__).with_name("default_policy.yaml")

DECISIONS = ("respond", "escalate", "monitor", "let_stand", "hide")
PRIORITIES = ("P0", "P1", "P2", "P3", "P4")
REPLY_MODES = ("public", "private", "acknowledge_then_private", "holding_statement", "none")
# Decisions that put a post in the needs-response set (METRICS.md).
NEEDS_RESPONSE = ("respond", "escalate")
RULE_CONDITIONS = conditions.ALL_KEYS - {"decision", "priority", "owner"}
ADJUSTMENT_CONDITIONS = conditions.ALL_KEYS
OUTCOME_FIELDS = {"priority", "decision", "owner", "first_response", "reply_mode"}
ADJUSTABLE_FIELDS = {"reply_mode", "decision", "owner", "priority_at_least", "first_response"}


class PolicyError(ValueError):
    pass


@dataclass(frozen=True)
class Outcome:
    decision: str
    priority: str
    reply_mode: str
    owner: str
    first_response_minutes: int | None


@dataclass(frozen=True)
class Rule:
    name: str
    when: dict
    base: dict
    by_severity: dict[int, dict]

    def outcome(self, severity: int) -> Outcome:
        fields = dict(self.base)
        level = max(s for s in self.by_severity if s <= severity)
        fields.update(self.by_severity[level])
        return Outcome(
            decision=fields["decision"],
            priority=fields["priority"],
            reply_mode=fields["reply_mode"],
            owner=fields["owner"],
            first_response_minutes=fields.get("first_response"),
        )


@dataclass(frozen=True)
class Policy:
    name: str
    rules: tuple[Rule, ...]
    adjustments: tuple[dict, ...]
    high_reach_followers: int
    s2_tiers: frozenset[str]
    s3_cues: frozenset[str]
    version: int = 0
    source: str = field(default="", repr=False)


def parse_duration(value: object, where: str) -> int | None:
    """'30m', '4h', '2d' or a number of minutes → minutes."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    m = re.fullmatch(r"\s*(\d+)\s*([mhd])\s*", str(value))
    if not m:
        raise PolicyError(f"{where}: {value!r} is not a duration such as 30m, 4h or 1d")
    return int(m.group(1)) * {"m": 1, "h": 60, "d": 1440}[m.group(2)]


def _check_keys(data: dict, allowed: set[str], where: str) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise PolicyError(f"{where}: unknown field {sorted(unknown)[0]!r} "
                          f"(allowed: {', '.join(sorted(allowed))})")


def _check_fields(fields: dict, where: str) -> dict:
    fields = dict(fields)
    if "decision" in fields and fields["decision"] not in DECISIONS:
        raise PolicyError(f"{where}: decision must be one of {', '.join(DECISIONS)}")
    if "priority" in fields and fields["priority"] not in PRIORITIES:
        raise PolicyError(f"{where}: priority must be one of {', '.join(PRIORITIES)}")
    if "reply_mode" in fields and fields["reply_mode"] not in REPLY_MODES:
        raise PolicyError(f"{where}: reply_mode must be one of {', '.join(REPLY_MODES)}")
    if "owner" in fields and not re.fullmatch(r"[a-z0-9_-]+", str(fields["owner"])):
        raise PolicyError(f"{where}: owner must be a team slug (a-z, 0-9, - and _)")
    if "first_response" in fields:
        fields["first_response"] = parse_duration(fields["first_response"], where)
    return fields


def _parse_rule(data: object, index: int) -> Rule:
    where = f"rules[{index}]"
    if not isinstance(data, dict):
        raise PolicyError(f"{where}: a rule must be a mapping")
    _check_keys(data, {"name", "when", "severity"} | OUTCOME_FIELDS, where)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise PolicyError(f"{where}: every rule needs a name")
    where = f"rule {name!r}"
    try:
        conditions.validate(data.get("when"), where, RULE_CONDITIONS)
    except conditions.ConditionError as e:
        raise PolicyError(str(e)) from None
    base = _check_fields({k: data[k] for k in OUTCOME_FIELDS if k in data}, where)
    levels = data.get("severity")
    if not isinstance(levels, dict) or 1 not in levels:
        raise PolicyError(f"{where}: 'severity' must map 1 (and optionally 2, 3) to outcomes")
    by_severity = {}
    for level, fields in levels.items():
        if level not in (1, 2, 3) or not isinstance(fields, dict):
            raise PolicyError(f"{where}: severity levels are 1, 2 and 3, each a mapping")
        _check_keys(fields, OUTCOME_FIELDS, f"{where} severity {level}")
        by_severity[level] = _check_fields(fields, f"{where} severity {level}")
    for level in by_severity:
        merged = {**base, **by_severity[max(s for s in by_severity if s <= level)]}
        missing = {"decision", "priority", "reply_mode", "owner"} - set(merged)
        if missing:
            raise PolicyError(f"{where} severity {level}: missing {', '.join(sorted(missing))}")
    return Rule(name, dict(data.get("when") or {}), base, by_severity)


def _parse_adjustment(data: object, index: int) -> dict:
    where = f"adjustments[{index}]"
    if not isinstance(data, dict):
        raise PolicyError(f"{where}: an adjustment must be a mapping")
    _check_keys(data, {"name", "when", "set"}, where)
    if not data.get("name"):
        raise PolicyError(f"{where}: every adjustment needs a name")
    try:
        conditions.validate(data.get("when"), f"adjustment {data['name']!r}", ADJUSTMENT_CONDITIONS)
    except conditions.ConditionError as e:
        raise PolicyError(str(e)) from None
    changes = data.get("set")
    if not isinstance(changes, dict) or not changes:
        raise PolicyError(f"adjustment {data['name']!r}: 'set' must be a non-empty mapping")
    _check_keys(changes, ADJUSTABLE_FIELDS, f"adjustment {data['name']!r}")
    checked = _check_fields(changes, f"adjustment {data['name']!r}")
    if "priority_at_least" in checked and checked["priority_at_least"] not in PRIORITIES:
        raise PolicyError(f"adjustment {data['name']!r}: priority_at_least must be P0–P4")
    return {"name": data["name"], "when": data.get("when") or {}, "set": checked}


def parse_policy(source: str, version: int = 0) -> Policy:
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as e:
        raise PolicyError(f"not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise PolicyError("a policy must be a YAML mapping")
    _check_keys(data, {"name", "severity", "rules", "adjustments"}, "policy")
    severity = data.get("severity") or {}
    if not isinstance(severity, dict):
        raise PolicyError("severity: must be a mapping")
    _check_keys(severity, {"high_reach_followers", "s2_tiers", "s3_cues"}, "severity")
    rules_data = data.get("rules")
    if not isinstance(rules_data, list) or not rules_data:
        raise PolicyError("rules: a policy needs a non-empty list of rules")
    rules = tuple(_parse_rule(r, i) for i, r in enumerate(rules_data))
    names = [r.name for r in rules]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise PolicyError(f"rule {duplicate!r} is defined twice")
    catch_all = next((i for i, r in enumerate(rules) if not r.when), None)
    if catch_all is None:
        raise PolicyError("the last rule must have no 'when', so that every post gets a decision")
    if catch_all != len(rules) - 1:
        raise PolicyError(f"rule {rules[catch_all + 1].name!r} is unreachable: "
                          f"rule {rules[catch_all].name!r} before it matches every post")
    adjustments = tuple(_parse_adjustment(a, i)
                        for i, a in enumerate(data.get("adjustments") or []))
    reach = severity.get("high_reach_followers", 10_000)
    if not isinstance(reach, int) or reach < 0:
        raise PolicyError("severity.high_reach_followers must be a whole number")
    return Policy(
        name=str(data.get("name") or "Unnamed policy"),
        rules=rules,
        adjustments=adjustments,
        high_reach_followers=reach,
        s2_tiers=frozenset(severity.get("s2_tiers") or ()),
        s3_cues=frozenset(severity.get("s3_cues") or ()),
        version=version,
        source=source,
    )


def default_policy() -> Policy:
    return parse_policy(DEFAULT_POLICY_PATH.read_text())


def severity_of(policy: Policy, facts: dict) -> tuple[int, str]:
    """(severity 1–3, the reason) from the policy's severity modifiers."""
    s3 = sorted(facts["cues"] & policy.s3_cues)
    if s3:
        return 3, f"severity S3: {', '.join(s3)} cue"
    if facts.get("tier") in policy.s2_tiers:
        return 2, f"severity S2: known {facts['tier']}"
    if (facts.get("followers") or 0) >= policy.high_reach_followers:
        return 2, f"severity S2: high reach ({facts['followers']:,} followers)"
    return 1, "severity S1"


def decide(policy: Policy, facts: dict) -> tuple[Outcome, list[str]]:
    """Apply the matrix to the facts about one post: the outcome and its reasons."""
    rule = next(r for r in policy.rules if conditions.matches(r.when, facts))
    outcome = rule.outcome(facts["severity"])
    reasons = [f"policy rule {rule.name} ({conditions.describe(rule.when)}): "
               f"{outcome.decision}, {outcome.priority}"]
    for adjustment in policy.adjustments:
        adjusted_facts = {**facts, "decision": outcome.decision, "priority": outcome.priority,
                          "owner": outcome.owner}
        if not conditions.matches(adjustment["when"], adjusted_facts):
            continue
        changes = dict(adjustment["set"])
        floor = changes.pop("priority_at_least", None)
        if floor and floor < outcome.priority:  # "P0" < "P4": lower is more urgent
            changes["priority"] = floor
        if "first_response" in changes:
            changes["first_response_minutes"] = changes.pop("first_response")
        changes = {k: v for k, v in changes.items() if getattr(outcome, k) != v}
        if changes:
            outcome = Outcome(**{**outcome.__dict__, **changes})
            shown = ", ".join(f"{k} {v}" for k, v in changes.items())
            reasons.append(f"adjustment {adjustment['name']}: {shown}")
    return outcome, reasons
