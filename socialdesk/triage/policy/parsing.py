"""Parse and check a policy: every field, `extends`, reachability, topics.

An invalid policy is rejected with a message that names the place and says
what is allowed.
"""

import math
import re
from dataclasses import dataclass

import yaml

from socialdesk.lib import conditions
from socialdesk.lib.conditions import DECISIONS, PRIORITIES
from socialdesk.triage.policy.schema import (
    ADJUSTABLE_FIELDS,
    ADJUSTMENT_CONDITIONS,
    ANY_ACCOUNT,
    APPROVAL_FIELDS,
    DEFAULT_POLICY_PATH,
    MAX_SPIKE_BASELINE_MINUTES,
    MAX_SPIKE_WINDOW_MINUTES,
    OUTCOME_FIELDS,
    REPLY_MODES,
    REQUIRED_FIELDS,
    RULE_CONDITIONS,
    RULE_FIELDS,
    SEVERITY_FIELDS,
    SEVERITY_LEVELS,
    SPIKE_CUES,
    SUPERVISOR,
    VOLUME_BUCKET_MINUTES,
    VOLUME_SPIKE_FIELDS,
    Adjustment,
    Approval,
    Policy,
    PolicyError,
    Rule,
    VolumeSpike,
)


def parse_duration(value: object, where: str) -> int | None:
    """'30m', '4h', '2d' or a number of minutes → minutes."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    m = re.fullmatch(r"\s*(\d+)\s*([mhd])\s*", str(value))
    if not m or int(m.group(1)) == 0:
        raise PolicyError(f"{where}: {value!r} is not a duration such as 30m, 4h or 1d")
    return int(m.group(1)) * {"m": 1, "h": 60, "d": 1440}[m.group(2)]


def _named_entry(data: object, where: str, kind: str, allowed: set[str],
                 shape: str = "") -> tuple[str, str]:
    """The name of a list entry (a rule, adjustment or approval) that must be a
    mapping with a name and only the allowed fields; and where it is, by name."""
    article = "an" if kind[0] in "aeiou" else "a"
    if not isinstance(data, dict):
        raise PolicyError(f"{where}: {article} {kind} must be a mapping{shape}")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise PolicyError(f"{where}: every {kind} needs a name")
    where = f"{kind} {name!r}"
    _check_keys(data, allowed, where)
    return name, where


def _check_keys(data: dict, allowed: set[str], where: str) -> None:
    unknown = [str(k) for k in data if k not in allowed]
    if unknown:
        raise PolicyError(f"{where}: unknown field {sorted(unknown)[0]!r} "
                          f"(allowed: {', '.join(sorted(allowed))})")


def _check_fields(fields: dict, where: str) -> dict:
    fields = dict(fields)
    if "decision" in fields and fields["decision"] not in DECISIONS:
        raise PolicyError(f"{where}: decision must be one of {', '.join(DECISIONS)}, "
                          f"not {fields['decision']!r}")
    if "priority" in fields and fields["priority"] not in PRIORITIES:
        raise PolicyError(f"{where}: priority must be one of {', '.join(PRIORITIES)}, "
                          f"not {fields['priority']!r}")
    if "reply_mode" in fields and fields["reply_mode"] not in REPLY_MODES:
        raise PolicyError(f"{where}: reply_mode must be one of {', '.join(REPLY_MODES)}, "
                          f"not {fields['reply_mode']!r}")
    if "owner" in fields and not re.fullmatch(r"[a-z0-9_-]+", str(fields["owner"])):
        raise PolicyError(f"{where}: owner must be a team slug (a-z, 0-9, - and _) "
                          f"or account_owner, not {fields['owner']!r}")
    if "first_response" in fields:
        fields["first_response"] = parse_duration(fields["first_response"],
                                                  f"{where}: first_response")
    return fields


def _condition(when: object, where: str, allowed: set[str]) -> conditions.Condition:
    try:
        return conditions.parse(when, where, allowed)
    except conditions.ConditionError as e:
        raise PolicyError(str(e)) from None


@dataclass
class _Draft:
    """A rule as written, before `extends` is resolved."""

    name: str
    when: dict
    condition: conditions.Condition
    base: dict
    levels: dict[int, dict] | None
    extends: str | None


def _parse_rule(data: object, index: int) -> _Draft:
    name, where = _named_entry(data, f"rules[{index}]", "rule", RULE_FIELDS)
    extends = data.get("extends")
    if extends is not None and (not isinstance(extends, str) or not extends):
        raise PolicyError(f"{where}: extends must name another rule")
    condition = _condition(data.get("when"), where, RULE_CONDITIONS)
    base = _check_fields({k: data[k] for k in OUTCOME_FIELDS if k in data}, where)
    levels = data.get("severity")
    if levels is None and extends:
        return _Draft(name, dict(data.get("when") or {}), condition, base, None, extends)
    if not isinstance(levels, dict) or not levels:
        raise PolicyError(f"{where}: 'severity' must map 1 (and optionally 2, 3) to outcomes, "
                          "e.g. severity: {1: {priority: P3, first_response: 4h}}")
    by_severity = {}
    for level, fields in levels.items():
        if level not in SEVERITY_LEVELS or not isinstance(fields, dict):
            raise PolicyError(f"{where}: severity {level!r}: severity levels are 1, 2 and 3, "
                              "each a mapping of outcome fields")
        _check_keys(fields, OUTCOME_FIELDS, f"{where} severity {level}")
        by_severity[level] = _check_fields(fields, f"{where} severity {level}")
    return _Draft(name, dict(data.get("when") or {}), condition, base, by_severity, extends)


def _resolve(drafts: list[_Draft]) -> tuple[Rule, ...]:
    """Rules with what they extend filled in; the parent's fields, the rule's own win."""
    by_name = {d.name: d for d in drafts}
    resolved: dict[str, tuple[dict, dict[int, dict]]] = {}

    def table(draft: _Draft, chain: list[str]) -> tuple[dict, dict[int, dict]]:
        if draft.name in resolved:
            return resolved[draft.name]
        if draft.name in chain:
            cycle = " → ".join([*chain[chain.index(draft.name):], draft.name])
            raise PolicyError(f"rule {draft.name!r}: rules extend each other in a cycle: {cycle}")
        if draft.extends is None:
            base, levels = draft.base, draft.levels or {}
        else:
            parent = by_name.get(draft.extends)
            if parent is None:
                raise PolicyError(f"rule {draft.name!r}: extends {draft.extends!r}, which is "
                                  f"not a rule (rules: {', '.join(by_name)})")
            parent_base, parent_levels = table(parent, [*chain, draft.name])
            base = {**parent_base, **draft.base}
            # A field the rule states for all severities overrides the parent's
            # per-severity values of it too.
            levels = {level: {k: v for k, v in fields.items() if k not in draft.base}
                      for level, fields in parent_levels.items()}
            for level, fields in sorted((draft.levels or {}).items()):
                lower = [s for s in levels if s <= level]
                start = levels[max(lower)] if lower else {}
                levels[level] = {**start, **fields}
        resolved[draft.name] = base, levels
        return base, levels

    rules = []
    for draft in drafts:
        base, levels = table(draft, [])
        where = f"rule {draft.name!r}"
        if 1 not in levels:
            raise PolicyError(f"{where}: 'severity' must give level 1 (and optionally 2, 3)")
        for level in levels:
            merged = {**base, **levels[level]}
            missing = [f for f in REQUIRED_FIELDS if f not in merged]
            if missing:
                raise PolicyError(f"{where} severity {level}: missing {', '.join(missing)} "
                                  "(state it on the rule, on the level, or in the rule it "
                                  "extends)")
        rules.append(Rule(draft.name, draft.when, dict(base), dict(levels), draft.condition,
                          draft.extends))
    return tuple(rules)


def _check_reachable(rules: tuple[Rule, ...]) -> None:
    catch_all = next((i for i, r in enumerate(rules) if not r.condition), None)
    if catch_all is None:
        raise PolicyError("the last rule must have no 'when', so that every post gets a decision "
                          f"(rule {rules[-1].name!r} has one)")
    if catch_all != len(rules) - 1:
        raise PolicyError(f"rule {rules[catch_all + 1].name!r} is unreachable: "
                          f"rule {rules[catch_all].name!r} before it matches every post")
    for i, later in enumerate(rules[:-1]):
        for earlier in rules[:i]:
            if conditions.covers(earlier.condition, later.condition):
                raise PolicyError(
                    f"rule {later.name!r} is unreachable: rule {earlier.name!r} before it "
                    f"({earlier.condition.description}) matches every post it could match; "
                    "move it earlier or narrow the earlier rule")


def _parse_adjustment(data: object, index: int, produced: dict[str, set[str]]) -> Adjustment:
    name, where = _named_entry(data, f"adjustments[{index}]", "adjustment",
                               {"name", "when", "set"})
    condition = _condition(data.get("when"), where, ADJUSTMENT_CONDITIONS)
    for key, values in produced.items():
        unknown = sorted(condition.names(key) - values)
        if unknown:
            raise PolicyError(f"{where}: when.{key}: no rule or earlier adjustment gives "
                              f"{key} {unknown[0]!r}, so the test can never be met "
                              f"({key} given: {', '.join(sorted(values))})")
    changes = data.get("set")
    if not isinstance(changes, dict) or not changes:
        raise PolicyError(f"{where}: 'set' must be a non-empty mapping of "
                          f"{', '.join(sorted(ADJUSTABLE_FIELDS))}")
    _check_keys(changes, ADJUSTABLE_FIELDS, f"{where}: set")
    checked = _check_fields(changes, f"{where}: set")
    if "priority_at_least" in checked and checked["priority_at_least"] not in PRIORITIES:
        raise PolicyError(f"{where}: set.priority_at_least must be one of "
                          f"{', '.join(PRIORITIES)}, not {checked['priority_at_least']!r}")
    for key in produced:
        if key in checked:
            produced[key].add(checked[key])
    return Adjustment(name, dict(data.get("when") or {}), checked, condition)


def _parse_approval(data: object, index: int, rule_names: list[str]) -> Approval:
    name, where = _named_entry(data, f"approvals[{index}]", "approval", APPROVAL_FIELDS,
                               " of name, when and by")
    when = data.get("when")
    if not isinstance(when, dict) or not when:
        raise PolicyError(f"{where}: 'when' must be a non-empty condition: an approval that "
                          "always applies would hold every reply")
    when = dict(when)
    rules = when.pop("rule", None)
    if rules is not None:
        if not (isinstance(rules, list) and rules and all(isinstance(r, str) for r in rules)):
            raise PolicyError(f"{where}: when.rule must be a non-empty list of rule names, "
                              f"such as [{rule_names[0]}]")
        unknown = [r for r in rules if r not in rule_names]
        if unknown:
            raise PolicyError(f"{where}: when.rule: {unknown[0]!r} is not a rule of this "
                              f"policy (rules: {', '.join(rule_names)})")
    condition = _condition(when, where, ADJUSTMENT_CONDITIONS)
    by = data.get("by")
    if not isinstance(by, str) or not re.fullmatch(r"[a-z0-9_-]+", by):
        raise PolicyError(f"{where}: by must be {SUPERVISOR} (the case team's escalation "
                          f"chain) or a team slug (a-z, 0-9, - and _), not {by!r}")
    return Approval(name, dict(data["when"]), by, condition, frozenset(rules or ()))


def _parse_approvals(data: object, rules: tuple[Rule, ...]) -> tuple[Approval, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        raise PolicyError("approvals: must be a list of {name, when, by}")
    rule_names = [r.name for r in rules]
    approvals = tuple(_parse_approval(a, i, rule_names) for i, a in enumerate(data))
    names = [a.name for a in approvals]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise PolicyError(f"approval {duplicate!r} is defined twice; names must be unique")
    return approvals


def _parse_severity(severity: object
                    ) -> tuple[int, frozenset[str], frozenset[str], frozenset[str]]:
    if not isinstance(severity, dict):
        raise PolicyError("severity: must be a mapping of high_reach_followers, s2_tiers, "
                          "s2_accounts and s3_cues")
    _check_keys(severity, SEVERITY_FIELDS, "severity")
    reach = severity.get("high_reach_followers", 10_000)
    if not isinstance(reach, int) or isinstance(reach, bool) or reach < 0:
        raise PolicyError("severity.high_reach_followers must be a whole number, "
                          f"not {reach!r}")
    tiers = severity.get("s2_tiers") or []
    if not (isinstance(tiers, list) and all(isinstance(t, str) for t in tiers)):
        raise PolicyError("severity.s2_tiers must be a list of contact tiers, e.g. [customer, vip]")
    accounts = _parse_accounts(severity.get("s2_accounts") or [])
    cues = severity.get("s3_cues") or []
    if not (isinstance(cues, list) and all(isinstance(c, str) for c in cues)):
        raise PolicyError("severity.s3_cues must be a list of cue names")
    unknown = [c for c in cues if c not in conditions.CUES]
    if unknown:
        raise PolicyError(f"severity.s3_cues: unknown cue {unknown[0]!r} "
                          f"(allowed: {', '.join(conditions.CUES)})")
    return reach, frozenset(tiers), accounts, frozenset(cues)


def _parse_accounts(accounts: object) -> frozenset[str]:
    """Handles as posts store them (lower case, no @), or "*" for any account."""
    if not (isinstance(accounts, list) and all(isinstance(a, str) for a in accounts)):
        raise PolicyError("severity.s2_accounts must be a list of the brand's account handles, "
                          f"e.g. [kettleco_help], or [\"{ANY_ACCOUNT}\"] for any of them")
    handles = set()
    for account in accounts:
        handle = account.strip().removeprefix("@").lower()
        if handle != ANY_ACCOUNT and not conditions.ACCOUNT.fullmatch(handle):
            raise PolicyError(f"severity.s2_accounts: {account!r} is not an account handle "
                              "(such as kettleco_help or @KettleCo_Help; "
                              f"\"{ANY_ACCOUNT}\" for any of the brand's accounts)")
        handles.add(handle)
    return frozenset(handles)


def _spike_minutes(data: dict, name: str, default: int) -> int:
    where = f"volume_spike.{name}"
    value = data.get(name, default)
    minutes = parse_duration(value, where)
    if minutes is None:
        raise PolicyError(f"{where}: {value!r} is not a duration such as 30m, 4h or 1d")
    if minutes % VOLUME_BUCKET_MINUTES:
        raise PolicyError(f"{where}: {value!r} is not a whole number of quarter hours "
                          "(15m, 30m, 1h, …): posts are counted per 15 minutes")
    return minutes


def _parse_volume_spike(data: object) -> VolumeSpike | None:
    """`volume_spike: off` (or no key) turns spikes off; a mapping turns them on, its
    missing fields taking VolumeSpike's defaults."""
    if data is None or data is False or data == "off":
        return None
    if not isinstance(data, dict):
        raise PolicyError("volume_spike: must be a mapping of window, baseline, factor, "
                          f"min_posts and keys, or off; not {data!r}")
    _check_keys(data, VOLUME_SPIKE_FIELDS, "volume_spike")
    default = VolumeSpike()
    window = _spike_minutes(data, "window", default.window_minutes)
    if window > MAX_SPIKE_WINDOW_MINUTES:
        raise PolicyError(f"volume_spike.window: at most 1d (a spike is a burst), "
                          f"not {data['window']!r}")
    baseline = _spike_minutes(data, "baseline", default.baseline_minutes)
    if baseline > MAX_SPIKE_BASELINE_MINUTES:
        raise PolicyError(f"volume_spike.baseline: at most 30d (older counts are not kept), "
                          f"not {data['baseline']!r}")
    if baseline <= window:
        raise PolicyError(f"volume_spike.baseline: {data.get('baseline', '7d')!r} must be "
                          f"longer than the window ({data.get('window', '1h')!r}): the usual "
                          "rate is measured over the baseline before the window")
    factor = data.get("factor", default.factor)
    if (not isinstance(factor, int | float) or isinstance(factor, bool)
            or not math.isfinite(factor) or factor <= 1):
        raise PolicyError("volume_spike.factor must be a number greater than 1 (how many times "
                          f"the usual rate makes a spike), not {factor!r}")
    min_posts = data.get("min_posts", default.min_posts)
    if not isinstance(min_posts, int) or isinstance(min_posts, bool) or min_posts < 1:
        raise PolicyError("volume_spike.min_posts must be a whole number of at least 1, "
                          f"not {min_posts!r}")
    keys = data.get("keys", ["topics", *SPIKE_CUES])
    allowed = ", ".join(("topics", *SPIKE_CUES))
    if not (isinstance(keys, list) and keys and all(isinstance(k, str) for k in keys)):
        raise PolicyError("volume_spike.keys must be a non-empty list of what is watched: "
                          f"topics and/or cue names, e.g. [topics, outage] (allowed: {allowed})")
    for key in keys:
        if key == "volume_spike":
            raise PolicyError("volume_spike.keys: volume_spike cannot watch itself "
                              f"(allowed: {allowed})")
        if key != "topics" and key not in SPIKE_CUES:
            raise PolicyError(f"volume_spike.keys: unknown key {key!r} (allowed: {allowed})")
    return VolumeSpike(window, baseline, float(factor), min_posts, "topics" in keys,
                       frozenset(k for k in keys if k != "topics"))


def parse_policy(source: str, version: int = 0,
                 known_topics: set[str] | None = None) -> Policy:
    """Check and compile a policy. With `known_topics`, a condition naming any other
    topic is rejected too (the desk passes its topics when a policy is installed)."""
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as e:
        raise PolicyError(f"not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise PolicyError("a policy must be a YAML mapping with name, severity, rules and "
                          "adjustments")
    _check_keys(data, {"name", "severity", "rules", "adjustments", "approvals", "volume_spike"},
                "policy")
    if "name" in data and not isinstance(data["name"], str):
        raise PolicyError("name: must be text")
    reach, s2_tiers, s2_accounts, s3_cues = _parse_severity(data.get("severity") or {})
    volume_spike = _parse_volume_spike(data.get("volume_spike"))
    rules_data = data.get("rules")
    if not isinstance(rules_data, list) or not rules_data:
        raise PolicyError("rules: a policy needs a non-empty list of rules")
    drafts = [_parse_rule(r, i) for i, r in enumerate(rules_data)]
    names = [d.name for d in drafts]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise PolicyError(f"rule {duplicate!r} is defined twice; rule names must be unique")
    rules = _resolve(drafts)
    _check_reachable(rules)
    adjustments_data = data.get("adjustments") or []
    if not isinstance(adjustments_data, list):
        raise PolicyError("adjustments: must be a list")
    produced = {key: {rule.outcome(level).__dict__[key] for rule in rules
                      for level in SEVERITY_LEVELS}
                for key in ("owner", "decision")}
    adjustments = tuple(_parse_adjustment(a, i, produced)
                        for i, a in enumerate(adjustments_data))
    adjustment_names = [a.name for a in adjustments]
    duplicate = next((n for n in adjustment_names if adjustment_names.count(n) > 1), None)
    if duplicate:
        raise PolicyError(f"adjustment {duplicate!r} is defined twice; names must be unique")
    approvals = _parse_approvals(data.get("approvals"), rules)
    if known_topics is not None:
        _check_topics(rules, adjustments + approvals, known_topics)
    return Policy(
        name=str(data.get("name") or "Unnamed policy"),
        rules=rules,
        adjustments=adjustments,
        high_reach_followers=reach,
        s2_tiers=s2_tiers,
        s3_cues=s3_cues,
        version=version,
        source=source,
        approvals=approvals,
        s2_accounts=s2_accounts,
        volume_spike=volume_spike,
    )


def _check_topics(rules: tuple[Rule, ...], others: tuple[Adjustment | Approval, ...],
                  known: set[str]) -> None:
    for items in (rules, others):
        for item in items:
            unknown = sorted(item.condition.names("topics") - known)
            if unknown:
                shown = ", ".join(sorted(known)) or "none yet"
                kind = type(item).__name__.lower()
                raise PolicyError(f"{kind} {item.name!r}: when.topics: unknown topic "
                                  f"{unknown[0]!r} (the desk's topics: {shown})")


def default_policy() -> Policy:
    return parse_policy(DEFAULT_POLICY_PATH.read_text())
