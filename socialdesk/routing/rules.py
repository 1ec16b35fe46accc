"""Which team owns a post: ordered rules over the post and its triage.

Pure functions, so `socialdesk triage` routes offline exactly as the desk does.
"""

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from socialdesk.lib import conditions

DEFAULT_RULES_PATH = Path(__file__).with_name("default_rules.yaml")
ACCOUNT_OWNER = "account_owner"


class RoutingError(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    name: str
    when: dict
    team: str
    # Compiled from `when` once; parse_rules passes the one it checked.
    condition: conditions.Condition | None = field(default=None, compare=False)

    def __post_init__(self):
        if self.condition is None:
            object.__setattr__(self, "condition", conditions.parse(self.when, self.name))


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    fallback: str


@dataclass(frozen=True)
class Route:
    team: str
    rule: str
    reason: str
    # The contact's account owner (a username) when a rule routes to them: the
    # desk assigns them the case in their own team.
    owner: str = ""


def parse_rules(data: object) -> RuleSet:
    if not isinstance(data, dict):
        raise RoutingError("routing rules must be a mapping with 'rules' and 'fallback'")
    unknown = set(data) - {"rules", "fallback"}
    if unknown:
        raise RoutingError(f"routing: unknown field {sorted(unknown)[0]!r}")
    fallback = data.get("fallback", "care")
    rules = []
    for i, item in enumerate(data.get("rules") or []):
        if not isinstance(item, dict) or set(item) - {"name", "when", "team"}:
            raise RoutingError(f"routing rules[{i}]: fields are name, when and team")
        if not item.get("name") or not re.fullmatch(r"[a-z0-9_-]+", str(item.get("team", ""))):
            raise RoutingError(f"routing rules[{i}]: needs a name and a team slug")
        try:
            condition = conditions.parse(item.get("when"), f"routing rule {item['name']!r}")
        except conditions.ConditionError as e:
            raise RoutingError(str(e)) from None
        rules.append(Rule(item["name"], dict(item.get("when") or {}), item["team"], condition))
    return RuleSet(tuple(rules), fallback)


@functools.cache
def default_rules() -> RuleSet:
    # The bundled file never changes while the desk runs, and the pipeline asks
    # for it on every batch: parsed once. A RuleSet is immutable, so it is shared.
    return parse_rules(yaml.safe_load(DEFAULT_RULES_PATH.read_text()))


def route(ruleset: RuleSet, facts: dict) -> Route:
    rule = next((r for r in ruleset.rules if r.condition.matches(facts)), None)
    if rule:
        team, name = rule.team, rule.name
        reason = f"route rule {rule.name} ({rule.condition.description})"
    else:
        team, name = facts["owner"], "policy-owner"
        reason = "route: no rule matched; the policy's owner team"
    if team == ACCOUNT_OWNER:
        owner = facts.get("account_owner") or ""
        if owner:
            # The owner's team is known only to the database: the filing step
            # puts the case there; `fallback` stands in when working offline.
            return Route(ruleset.fallback, name, f"{reason} → account owner {owner}", owner)
        return Route(ruleset.fallback, name, reason + f" → no account owner, {ruleset.fallback}")
    return Route(team, name, f"{reason} → {team}")
