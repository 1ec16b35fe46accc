"""What a policy is made of: its fields and limits, and the compiled rules,
adjustments, approvals and severity modifiers that parsing.py builds."""

from dataclasses import dataclass, field
from pathlib import Path

from socialdesk.lib import conditions

DEFAULT_POLICY_PATH = Path(__file__).resolve().parents[1] / "default_policy.yaml"

REPLY_MODES = ("public", "private", "acknowledge_then_private", "holding_statement", "none")
# Decisions that put a post in the needs-response set (METRICS.md).
NEEDS_RESPONSE = ("respond", "escalate")
# A rule decides the outcome, so it cannot test one; adjustments run after and can.
RULE_CONDITIONS = conditions.ALL_KEYS - {"decision", "priority", "owner"}
ADJUSTMENT_CONDITIONS = conditions.ALL_KEYS
OUTCOME_FIELDS = {"priority", "decision", "owner", "first_response", "reply_mode"}
REQUIRED_FIELDS = ("decision", "priority", "reply_mode", "owner")
ADJUSTABLE_FIELDS = {"reply_mode", "decision", "owner", "priority_at_least", "first_response"}
RULE_FIELDS = {"name", "when", "severity", "extends"} | OUTCOME_FIELDS
SEVERITY_LEVELS = (1, 2, 3)
APPROVAL_FIELDS = {"name", "when", "by"}
# Who approves: the case team's escalation chain, or any member of a named team.
SUPERVISOR = "supervisor"
SEVERITY_FIELDS = {"high_reach_followers", "s2_tiers", "s2_accounts", "s3_cues"}
# In severity.s2_accounts: any of the brand's accounts.
ANY_ACCOUNT = "*"
# Volume spikes: posts are counted per quarter hour (triage/spikes.py), so the
# window and the baseline are whole quarter hours. Counts are kept for the
# longest window and baseline a policy may ask for, so a policy change never
# finds its history pruned.
VOLUME_BUCKET_MINUTES = 15
MAX_SPIKE_WINDOW_MINUTES = 24 * 60
MAX_SPIKE_BASELINE_MINUTES = 30 * 24 * 60
VOLUME_SPIKE_FIELDS = {"window", "baseline", "factor", "min_posts", "keys"}
# What volume_spike.keys may name besides "topics": every cue but the spike itself.
SPIKE_CUES = tuple(c for c in conditions.CUES if c != "volume_spike")


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
    # Compiled from `when` once; parse_policy passes the one it checked.
    condition: conditions.Condition | None = field(default=None, compare=False)
    extends: str | None = None

    def __post_init__(self):
        if self.condition is None:
            object.__setattr__(self, "condition", conditions.parse(self.when, self.name))
        # The outcome per severity, worked out once: decide runs for every post.
        object.__setattr__(self, "_outcomes", {})
        if 1 in self.by_severity:
            for level in SEVERITY_LEVELS:
                self._outcomes[level] = self._work_out(level)

    def outcome(self, severity: int) -> Outcome:
        found = self._outcomes.get(severity)
        return found if found is not None else self._work_out(severity)

    def _work_out(self, severity: int) -> Outcome:
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
class Adjustment:
    name: str
    when: dict
    set: dict
    condition: conditions.Condition | None = field(default=None, compare=False)

    def __post_init__(self):
        if self.condition is None:
            object.__setattr__(self, "condition", conditions.parse(self.when, self.name))


@dataclass(frozen=True)
class Approval:
    """Replies on cases that match wait for `by` ("supervisor" or a team slug).

    `rules` holds the `rule:` test apart from the condition: the shared
    condition language knows nothing of policy rule names.
    """

    name: str
    when: dict
    by: str
    condition: conditions.Condition
    rules: frozenset[str] = frozenset()

    def matches(self, facts: dict) -> bool:
        if self.rules and facts.get("rule") not in self.rules:
            return False
        return self.condition.matches(facts)

    @property
    def reason(self) -> str:
        tests = [self.condition.description] if self.condition else []
        if self.rules:
            tests.insert(0, "rule " + " or ".join(sorted(self.rules)))
        return f"approval {self.name} ({' and '.join(tests) or 'always'})"


@dataclass(frozen=True)
class VolumeSpike:
    """When posts on one subject come far faster than usual (see triage/spikes.py).

    A subject's posts in the `window` that ends with a post's quarter hour
    make a spike when there are at least `min_posts` of them and their rate is
    at least `factor` times the rate of the `baseline` before the window.
    """

    window_minutes: int = 60
    baseline_minutes: int = 7 * 24 * 60
    factor: float = 4.0
    min_posts: int = 20
    # The subjects watched: every brand topic (when `topics`) and these cues.
    topics: bool = True
    cues: frozenset[str] = frozenset(SPIKE_CUES)


@dataclass(frozen=True)
class Policy:
    name: str
    rules: tuple[Rule, ...]
    adjustments: tuple[Adjustment, ...]
    high_reach_followers: int
    s2_tiers: frozenset[str]
    s3_cues: frozenset[str]
    version: int = 0
    source: str = field(default="", repr=False)
    approvals: tuple[Approval, ...] = ()
    # The brand's account handles whose posts are S2 ("*": any of them).
    s2_accounts: frozenset[str] = frozenset()
    # None: volume spikes are not looked for.
    volume_spike: VolumeSpike | None = None
    # Decisions already made, by the facts they read (deciding.decide); never pickled.
    decisions: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        # The facts a decision depends on: what the rules' and adjustments' tests read,
        # and the severity that picks a rule's outcome. Adjustments read decision,
        # priority and owner from the outcome, not the facts. None: a test reads the
        # text, so decisions are not remembered (every post's text differs).
        read = {"severity"}
        for item in (*self.rules, *self.adjustments):
            read |= item.condition.reads()
        read -= {"decision", "priority", "owner"}
        keys = None if "text" in read else tuple(sorted(read))
        object.__setattr__(self, "decision_keys", keys)

    def __getstate__(self) -> dict:
        # Sent to the helper processes with every batch: without what it remembered.
        return {**self.__dict__, "decisions": {}}
