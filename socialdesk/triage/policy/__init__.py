"""The response matrix as data: parse, validate and apply a policy.

A policy is YAML (see default_policy.yaml). Loading it checks every field, so
an invalid policy is rejected with a message that names the place and says
what is allowed, and the active one stays in force. schema.py holds what a
policy is made of, parsing.py reads and checks one, deciding.py applies it to
the facts about a post.
"""

from socialdesk.lib.conditions import DECISIONS
from socialdesk.triage.policy.deciding import (
    approval_needed,
    decide,
    evaluate,
    judge,
    matched_rule,
    severity_of,
)
from socialdesk.triage.policy.parsing import default_policy, parse_duration, parse_policy
from socialdesk.triage.policy.schema import (
    ANY_ACCOUNT,
    DEFAULT_POLICY_PATH,
    MAX_SPIKE_BASELINE_MINUTES,
    MAX_SPIKE_WINDOW_MINUTES,
    NEEDS_RESPONSE,
    REPLY_MODES,
    SEVERITY_LEVELS,
    SUPERVISOR,
    VOLUME_BUCKET_MINUTES,
    Adjustment,
    Approval,
    Outcome,
    Policy,
    PolicyError,
    Rule,
    VolumeSpike,
)

__all__ = [
    "ANY_ACCOUNT", "DECISIONS", "DEFAULT_POLICY_PATH", "MAX_SPIKE_BASELINE_MINUTES",
    "MAX_SPIKE_WINDOW_MINUTES", "NEEDS_RESPONSE", "REPLY_MODES", "SEVERITY_LEVELS",
    "SUPERVISOR", "VOLUME_BUCKET_MINUTES", "Adjustment", "Approval", "Outcome", "Policy",
    "PolicyError", "Rule", "VolumeSpike", "approval_needed", "decide", "default_policy",
    "evaluate", "judge", "matched_rule", "parse_duration", "parse_policy", "severity_of",
]
