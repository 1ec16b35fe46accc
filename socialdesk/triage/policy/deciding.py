"""Apply a policy to the facts about one post: severity, the rule that decides,
adjustments, and the approval a reply needs."""

from socialdesk.triage.policy.schema import (
    ANY_ACCOUNT,
    Adjustment,
    Outcome,
    Policy,
    Rule,
)


def severity_of(policy: Policy, facts: dict) -> tuple[int, str]:
    """(severity 1–3, the reason) from the policy's severity modifiers."""
    s3 = sorted(facts["cues"] & policy.s3_cues)
    if s3:
        return 3, f"severity S3: {', '.join(s3)} cue"
    # The S2 modifiers all give S2; their order picks the reason shown. Who the
    # author is says most about whom to involve (an account owner), then the
    # brand's own channel (everyone who follows the brand sees the post there),
    # then the author's reach.
    if facts.get("tier") in policy.s2_tiers:
        return 2, f"severity S2: known {facts['tier']}"
    account = facts.get("account") or ""
    if account and (account in policy.s2_accounts or ANY_ACCOUNT in policy.s2_accounts):
        return 2, f"severity S2: on the brand's account @{account}"
    if (facts.get("followers") or 0) >= policy.high_reach_followers:
        return 2, f"severity S2: high reach ({facts['followers']:,} followers)"
    return 1, "severity S1"


def judge(policy: Policy, facts: dict) -> tuple[int, Outcome, list[str]]:
    """The severity, the matrix's outcome and their reasons (severity first) for one post's
    facts; sets facts["severity"]. Triage, a correction and a volume spike all decide here."""
    severity, severity_reason = severity_of(policy, facts)
    facts["severity"] = severity
    outcome, reasons = decide(policy, facts)
    return severity, outcome, [severity_reason, *reasons]


def evaluate(policy: Policy, facts: dict) -> tuple[Rule, Outcome, list[tuple[Adjustment, dict]]]:
    """The rule that decides, the outcome, and each adjustment that changed it with its
    changes. `decide` words this as reasons; a simulation needs only the outcome."""
    rule = matched_rule(policy, facts)
    outcome = rule.outcome(facts["severity"])
    applied = []
    adjusted_facts = None
    for adjustment in policy.adjustments:
        if adjusted_facts is None:
            adjusted_facts = dict(facts)
        adjusted_facts["decision"] = outcome.decision
        adjusted_facts["priority"] = outcome.priority
        adjusted_facts["owner"] = outcome.owner
        if not adjustment.condition.matches(adjusted_facts):
            continue
        changes = dict(adjustment.set)
        floor = changes.pop("priority_at_least", None)
        if floor and floor < outcome.priority:  # "P0" < "P4": lower is more urgent
            changes["priority"] = floor
        if "first_response" in changes:
            changes["first_response_minutes"] = changes.pop("first_response")
        changes = {k: v for k, v in changes.items() if getattr(outcome, k) != v}
        if changes:
            outcome = Outcome(**{**outcome.__dict__, **changes})
            applied.append((adjustment, changes))
    return rule, outcome, applied


# Decisions a policy remembers before it starts again (see decide).
REMEMBERED = 4096


def decide(policy: Policy, facts: dict) -> tuple[Outcome, list[str]]:
    """Apply the matrix to the facts about one post: the outcome and its reasons.

    Posts share a few combinations of the facts a policy reads (category,
    sentiment, cues, severity, channel...), so each combination is decided once
    and remembered; a policy whose tests read the text decides every post.
    """
    keys = policy.decision_keys
    if keys is None:
        return _decide(policy, facts)
    key = tuple(frozenset(value) if isinstance(value := facts.get(k), set) else value
                for k in keys)
    known = policy.decisions.get(key)
    if known is None:
        if len(policy.decisions) >= REMEMBERED:
            policy.decisions.clear()
        outcome, reasons = _decide(policy, facts)
        known = policy.decisions[key] = outcome, tuple(reasons)
    return known[0], list(known[1])


def _decide(policy: Policy, facts: dict) -> tuple[Outcome, list[str]]:
    rule, outcome, applied = evaluate(policy, facts)
    first = rule.outcome(facts["severity"])
    reasons = [f"policy rule {rule.name} ({rule.condition.description}): "
               f"{first.decision}, {first.priority}"]
    for adjustment, changes in applied:
        shown = ", ".join(f"{k} {v}" for k, v in changes.items())
        reasons.append(f"adjustment {adjustment.name}: {shown}")
    return outcome, reasons


def matched_rule(policy: Policy, facts: dict) -> Rule:
    return next(r for r in policy.rules if r.condition.matches(facts))


def approval_needed(policy: Policy, facts: dict) -> tuple[str, str]:
    """(by, reason) of the first approval whose test the case's facts meet, or ("", "").

    The facts are a post's (TriageResult.facts); the "rule" fact is worked out here
    when absent, so the triage output stays as it is. Rules test no outcome fields,
    so the facts after adjustments pick the same rule that decided.
    """
    if not policy.approvals:
        return "", ""
    if "rule" not in facts:
        facts = {**facts, "rule": matched_rule(policy, facts).name}
    for approval in policy.approvals:
        if approval.matches(facts):
            return approval.by, approval.reason
    return "", ""
