"""The small condition language shared by the response policy and routing rules.

A condition is a mapping; every key must hold (AND). List values mean "any of".
Facts are a plain dict built from a post and its triage, so the same rules run
with or without a database.
"""

import re
from collections.abc import Mapping

LIST_KEYS = {
    "category": "category", "sentiment": "sentiment", "channel": "channel",
    "visibility": "visibility", "decision": "decision", "priority": "priority",
    "owner": "owner", "tier": "tier", "lang": "lang",
}


class ConditionError(ValueError):
    pass


def validate(when: object, where: str, allowed: set[str]) -> None:
    if when is None:
        return
    if not isinstance(when, Mapping):
        raise ConditionError(f"{where}: 'when' must be a mapping, not {type(when).__name__}")
    for key, value in when.items():
        if key not in allowed:
            raise ConditionError(
                f"{where}: unknown condition {key!r} (known: {', '.join(sorted(allowed))})"
            )
        if key in LIST_KEYS or key == "cues":
            if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
                raise ConditionError(f"{where}: {key!r} must be a non-empty list of strings")
        elif key in ("severity_at_least", "followers_at_least"):
            if not isinstance(value, int) or isinstance(value, bool):
                raise ConditionError(f"{where}: {key!r} must be an integer")
        elif key == "text_matches":
            try:
                re.compile(value)
            except (re.error, TypeError) as e:
                raise ConditionError(
                    f"{where}: 'text_matches' is not a valid pattern: {e}") from None


ALL_KEYS = set(LIST_KEYS) | {"cues", "severity_at_least", "followers_at_least", "text_matches"}


def matches(when: Mapping | None, facts: Mapping) -> bool:
    for key, value in (when or {}).items():
        if key in LIST_KEYS:
            if facts.get(LIST_KEYS[key]) not in value:
                return False
        elif key == "cues":
            if not facts["cues"].intersection(value):
                return False
        elif key == "severity_at_least":
            if facts["severity"] < value:
                return False
        elif key == "followers_at_least":
            if (facts.get("followers") or 0) < value:
                return False
        elif key == "text_matches":
            if not re.search(value, facts["text"], re.IGNORECASE):
                return False
    return True


def describe(when: Mapping | None) -> str:
    if not when:
        return "always"
    parts = []
    for key, value in when.items():
        shown = " or ".join(value) if isinstance(value, list) else str(value)
        parts.append(f"{key.replace('_', ' ')} {shown}")
    return " and ".join(parts)
