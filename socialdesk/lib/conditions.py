"""The small condition language shared by the response policy and routing rules.

A condition is a mapping; every key must hold (AND). List values mean "any of";
`any: [cond, …]` holds when one of its conditions does, `not: cond` when its
condition does not. Facts are a plain dict built from a post and its triage,
so the same rules run with or without a database.

A condition is checked and compiled once, by `parse`, into a `Condition` that
the policy or rule set keeps: `matches` runs for every post, so no pattern is
compiled and no value list is rebuilt there.
"""

import re
from collections.abc import Callable, Mapping

CATEGORIES = ("complaint", "question", "praise", "suggestion", "misinformation", "rant",
              "abuse", "spam", "crisis", "other")
SENTIMENTS = ("negative", "neutral", "positive")
DECISIONS = ("respond", "escalate", "monitor", "let_stand", "hide")
PRIORITIES = ("P0", "P1", "P2", "P3", "P4")
VISIBILITIES = ("public", "private")
# Risk cues. All but volume_spike are found in a post's text (triage/cues.py);
# volume_spike is added by the pipeline when posts on one subject come far
# faster than usual (triage/spikes.py).
CUES = ("safety", "legal", "regulator", "press", "fraud", "data_breach", "churn", "outage",
        "personal_data", "volume_spike")

_SLUG = re.compile(r"[a-z0-9_-]+")
_CHANNEL = re.compile(r"[a-z][a-z0-9_-]{0,31}")
# A brand's account handle as stored on a post: lower case, no @.
ACCOUNT = re.compile(r"[a-z0-9][a-z0-9_.:-]{0,254}")

# key: the values it accepts, as a tuple of allowed words or a (pattern, what it is) pair.
_VOCABULARY: dict[str, tuple[str, ...] | tuple[re.Pattern, str]] = {
    "category": CATEGORIES, "labels": CATEGORIES, "sentiment": SENTIMENTS,
    "decision": DECISIONS, "priority": PRIORITIES, "visibility": VISIBILITIES, "cues": CUES,
    "channel": (_CHANNEL, "a channel name such as x, facebook or email"),
    "owner": (_SLUG, "a team slug (a-z, 0-9, - and _)"),
    "topics": (_SLUG, "a topic slug (a-z, 0-9, - and _)"),
    "tier": (re.compile(r"[a-z0-9_-]*"), "a contact tier such as customer or vip"),
    "lang": (re.compile(r"[a-z]{2,3}(?:-[a-z0-9]+)*"), "a language code such as en or pt-br"),
    "account": (ACCOUNT,
                "the brand's account on the channel, lower case without @ (kettleco_help)"),
}
# Keys whose fact holds one value: the condition holds when it is one of the listed.
LIST_KEYS = {
    "category": "category", "sentiment": "sentiment", "channel": "channel",
    "visibility": "visibility", "decision": "decision", "priority": "priority",
    "owner": "owner", "tier": "tier", "lang": "lang", "account": "account",
}
# Keys whose fact is a set: the condition holds when the sets share a value.
SET_KEYS = ("cues", "labels", "topics")
INT_KEYS = {"severity_at_least": (1, 3), "followers_at_least": (0, None)}
BOOL_KEYS = ("repeat_poster", "has_account_owner", "to_brand_account")
# The fact each yes/no key reads, where it is not the key itself.
_BOOL_FACTS = {"has_account_owner": "account_owner", "to_brand_account": "account"}
COMBINATORS = ("any", "not")
ALL_KEYS = (set(LIST_KEYS) | set(SET_KEYS) | set(INT_KEYS) | set(BOOL_KEYS)
            | {"text_matches", "keywords"} | set(COMBINATORS))


class ConditionError(ValueError):
    pass


# The tests a compiled condition runs: module-level functions, so that a policy
# can be pickled to the helper processes that triage in parallel.
def _one_of(facts: Mapping, key: str, values: frozenset) -> bool:
    return facts.get(key) in values


def _shares(facts: Mapping, key: str, values: frozenset) -> bool:
    return not values.isdisjoint(facts.get(key) or ())


def _shares_label(facts: Mapping, key: str, values: frozenset) -> bool:
    # Facts built before labels existed carry only the primary category.
    labels = facts.get("labels") or (facts.get("category"),)
    return not values.isdisjoint(labels)


def _at_least(facts: Mapping, key: str, value: int) -> bool:
    return (facts.get(key) or 0) >= value


def _searches(facts: Mapping, key: str, pattern: re.Pattern) -> bool:
    return pattern.search(facts.get("text") or "") is not None


def _is(facts: Mapping, key: str, value: bool) -> bool:
    return bool(facts.get(key)) is value


def _any(facts: Mapping, key: str, branches: tuple["Condition", ...]) -> bool:
    return any(branch.matches(facts) for branch in branches)


def _not(facts: Mapping, key: str, inner: "Condition") -> bool:
    return not inner.matches(facts)


Test = tuple[Callable[[Mapping, str, object], bool], str, object]


class Condition:
    """A checked condition, ready to match facts.

    `when` keeps the normalised mapping (lists as frozensets, keywords in
    lower case) for describing the condition and reasoning about it.
    """

    __slots__ = ("when", "description", "_tests")

    def __init__(self, when: dict, tests: tuple[Test, ...], description: str):
        self.when = when
        self._tests = tests
        self.description = description

    def matches(self, facts: Mapping) -> bool:
        for test, key, value in self._tests:
            if not test(facts, key, value):
                return False
        return True

    def reads(self) -> frozenset[str]:
        """The fact keys the condition's tests read: what its answer depends on."""
        found: set[str] = set()
        for test, key, value in self._tests:
            if test is _any:
                for branch in value:
                    found |= branch.reads()
            elif test is _not:
                found |= value.reads()
            elif test is _shares_label:
                found |= {"labels", "category"}
            else:
                found.add(key)
        return frozenset(found)

    def names(self, key: str) -> set[str]:
        """Every value the condition names for `key`, inside `any` and `not` too."""
        found = set(self.when.get(key, ()))
        for branch in self.when.get("any", ()):
            found |= branch.names(key)
        if "not" in self.when:
            found |= self.when["not"].names(key)
        return found

    def __bool__(self) -> bool:
        return bool(self.when)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Condition) and self.when == other.when

    def __hash__(self) -> int:
        return hash(frozenset(self.when))

    def __repr__(self) -> str:
        return f"Condition({self.description!r})"


ALWAYS = Condition({}, (), "always")


_EXAMPLES = {"category": "complaint", "labels": "complaint", "sentiment": "negative",
             "decision": "respond", "priority": "P1", "visibility": "public", "cues": "legal",
             "channel": "x", "owner": "care", "topics": "billing", "tier": "vip", "lang": "en",
             "account": "kettleco_help"}


def _allowed_values(key: str) -> str:
    allowed = _VOCABULARY[key]
    if isinstance(allowed[0], re.Pattern):
        return allowed[1]
    return ", ".join(allowed)


def _check_values(key: str, value: object, place: str) -> frozenset:
    if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        raise ConditionError(f"{place}: must be a non-empty list, such as [{_EXAMPLES[key]}] "
                             f"(allowed: {_allowed_values(key)})")
    if key == "account":  # written as the channel shows it: @KettleCo_Help
        value = [item.removeprefix("@").lower() for item in value]
    allowed = _VOCABULARY[key]
    for item in value:
        known = (allowed[0].fullmatch(item) if isinstance(allowed[0], re.Pattern)
                 else item in allowed)
        if not known:
            raise ConditionError(f"{place}: unknown value {item!r} "
                                 f"(allowed: {_allowed_values(key)})")
    return frozenset(value)


def _keyword_pattern(words: list[str]) -> re.Pattern:
    # Whole words or phrases: no letter or digit may touch either end, and the
    # words of a phrase may be separated by any run of spaces.
    alternatives = sorted({r"\s+".join(map(re.escape, w.split())) for w in words},
                          key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def _describe_values(values: list[str]) -> str:
    return " or ".join(dict.fromkeys(values))


def parse(when: object, where: str, allowed: set[str] = ALL_KEYS,
          path: str = "when") -> Condition:
    """Check a `when` mapping and compile it; ConditionError names the place and what is
    allowed. `where` names the rule, `path` the position inside it (when.any[1].category)."""
    if when is None:
        return ALWAYS
    if not isinstance(when, Mapping):
        raise ConditionError(f"{where}: {path!r} must be a mapping, not {type(when).__name__}")
    normalised: dict = {}
    tests: list[Test] = []
    described: list[str] = []
    for key, value in when.items():
        place = f"{where}: {path}.{key}"
        if key not in allowed:
            raise ConditionError(f"{where}: unknown condition {key!r} in {path} "
                                 f"(known: {', '.join(sorted(allowed))})")
        shown = key.replace("_", " ")
        if key in LIST_KEYS:
            values = _check_values(key, value, place)
            tests.append((_one_of, LIST_KEYS[key], values))
            described.append(f"{shown} {_describe_values(value)}")
        elif key in SET_KEYS:
            values = _check_values(key, value, place)
            tests.append((_shares_label if key == "labels" else _shares, key, values))
            described.append(f"{shown} {_describe_values(value)}")
        elif key in INT_KEYS:
            low, high = INT_KEYS[key]
            if (not isinstance(value, int) or isinstance(value, bool) or value < low
                    or (high is not None and value > high)):
                span = f"from {low} to {high}" if high is not None else f"of at least {low}"
                raise ConditionError(f"{place}: must be a whole number {span}, not {value!r}")
            values = value
            tests.append((_at_least, key.removesuffix("_at_least"), value))
            described.append(f"{shown} {value}")
        elif key in BOOL_KEYS:
            if not isinstance(value, bool):
                raise ConditionError(f"{place}: must be true or false, not {value!r}")
            values = value
            fact = _BOOL_FACTS.get(key, key)
            tests.append((_is, fact, value))
            described.append(shown if value else f"not {shown}")
        elif key == "text_matches":
            if not isinstance(value, str) or not value:
                raise ConditionError(f"{place}: must be a regular expression (a string)")
            try:
                pattern = re.compile(value, re.IGNORECASE)
            except re.error as e:
                raise ConditionError(f"{place}: not a valid pattern: {e}") from None
            values = value
            tests.append((_searches, "text", pattern))
            described.append(f"{shown} {value}")
        elif key == "keywords":
            if not (isinstance(value, list) and value
                    and all(isinstance(v, str) and re.search(r"\w", v) for v in value)):
                raise ConditionError(f"{place}: must be a non-empty list of words or phrases")
            values = frozenset(" ".join(v.lower().split()) for v in value)
            tests.append((_searches, "text", _keyword_pattern(value)))
            described.append("keywords " + " or ".join(repr(v) for v in dict.fromkeys(value)))
        elif key == "any":
            if not (isinstance(value, list) and value):
                raise ConditionError(f"{place}: must be a non-empty list of conditions")
            branches = tuple(parse(item, where, allowed, f"{path}.any[{i}]")
                             for i, item in enumerate(value))
            if any(not branch for branch in branches):
                raise ConditionError(f"{place}: an empty condition always holds; "
                                     "each branch needs at least one key")
            values = branches
            tests.append((_any, key, branches))
            described.append("either " + " or ".join(f"({b.description})" for b in branches))
        else:  # not
            if not value:
                raise ConditionError(f"{place}: must be a non-empty condition")
            inner = parse(value, where, allowed, f"{path}.not")
            values = inner
            tests.append((_not, key, inner))
            described.append(f"not ({inner.description})")
        normalised[key] = values
    if not normalised:
        return ALWAYS
    return Condition(normalised, tuple(tests), " and ".join(described))


def validate(when: object, where: str, allowed: set[str] = ALL_KEYS) -> None:
    parse(when, where, allowed)


def matches(when: "Condition | Mapping | None", facts: Mapping) -> bool:
    """For a condition already compiled, or (slower: compiled on each call) a mapping."""
    if not isinstance(when, Condition):
        when = parse(when, "condition")
    return when.matches(facts)


def describe(when: "Condition | Mapping | None") -> str:
    if not isinstance(when, Condition):
        when = parse(when, "condition")
    return when.description


# Facts with one value per post: two conditions that list disjoint values for
# the same key can never both hold.
_SINGLE_VALUED = set(LIST_KEYS)


def covers(earlier: Condition, later: Condition) -> bool:
    """True when `earlier` certainly holds for every post `later` holds for.

    Conservative: False means "not shown", never "certainly not". Patterns are
    compared as written; `any` and `not` only where the answer is plain.
    """
    if not earlier:
        return True
    if all(_implied(key, value, later.when) for key, value in earlier.when.items()):
        return True
    # A post `later` matches satisfies one of its `any` branches as well as
    # its other keys; `earlier` covers `later` if it covers each such case.
    branches = later.when.get("any")
    if branches:
        rest = {k: v for k, v in later.when.items() if k != "any"}
        cases = []
        for branch in branches:
            if set(branch.when) & set(rest):
                return False  # merging overlapping keys needs more care than it is worth
            cases.append({**rest, **branch.when})
        return all(all(_implied(key, value, case) for key, value in earlier.when.items())
                   for case in cases)
    return False


def _implied(key: str, value: object, given: dict) -> bool:
    """Whether every post that meets all of `given` meets the single test key: value."""
    if key == "any":
        return any(covers(branch, Condition(given, (), "")) for branch in value)
    if key == "not":
        return _excludes(given, value)
    if key not in given:
        return False
    held = given[key]
    if key in LIST_KEYS or key in SET_KEYS or key == "keywords":
        return held <= value
    if key in INT_KEYS:
        return held >= value
    return held == value  # booleans; text patterns only when written the same


def _excludes(given: dict, inner: Condition) -> bool:
    """Whether no post that meets `given` can meet `inner`."""
    other = given.get("not")
    if other is not None and covers(other, inner):
        return True  # given says "not Y", and everything inner matches, Y matches
    for key, value in inner.when.items():
        if key in _SINGLE_VALUED and key in given and given[key].isdisjoint(value):
            return True
        if key in BOOL_KEYS and key in given and given[key] is not value:
            return True
    return False
