"""The org chart file's sections, fields and value checks."""

import re
from dataclasses import dataclass, field

from socialdesk.cases.models import SlaPolicy
from socialdesk.lib.conditions import PRIORITIES

SECTIONS = ("calendars", "teams", "agents", "routing", "sla", "account_owners")
FIELDS = {
    "calendars": ("slug", "name", "timezone", "hours", "holidays"),
    "teams": ("slug", "name", "parent", "supervisor", "calendar", "strategy",
              "reassign_after_minutes"),
    "agents": ("username", "name", "email", "role", "teams", "capacity", "skills", "languages",
               "channels", "working_hours", "availability"),
    "routing.rules": ("name", "when", "team", "enabled"),
    "sla": ("name", "priorities", "channels", "teams", "first_response", "next_response",
            "resolution", "warn_at_percent", "breach_actions", "enabled"),
    "account_owners": ("channel", "handle", "owner", "tier"),
}
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
USERNAME = re.compile(r"[\w.@+-]{1,150}")
# Agent attributes that routing matches against: short, lower case, comparable as written.
TAGS = {
    "skills": (re.compile(r"[a-z0-9][a-z0-9_-]{0,31}"),
               "a short lower-case word such as billing or refunds (a-z, 0-9, - and _)",
               '["billing", "refunds"]'),
    "languages": (re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*"),
                  "a lower-case language code such as en or pt-br", '["en", "pt"]'),
    "channels": (re.compile(r"[a-z][a-z0-9_-]{0,31}"),
                 "a lower-case channel name such as x, facebook or email", '["x", "email"]'),
}
TARGETS = {"first_response": "first_response_minutes", "next_response": "next_response_minutes",
           "resolution": "resolution_minutes"}
# New rows are spaced out so that an admin can slot one in between without renumbering.
POSITION_STEP = 10


class OrgError(ValueError):
    pass


@dataclass(frozen=True)
class Entry:
    """One checked item of a section: its key (slug, username, name or channel:handle),
    where it stands in the file, and the model fields the file gives, references still
    by slug or username."""

    key: str
    place: str
    fields: dict


@dataclass(frozen=True)
class RoutingSection:
    fallback: str
    rules: tuple[Entry, ...]


@dataclass(frozen=True)
class OrgChart:
    """The sections of a file; None for a section the file leaves out."""

    calendars: tuple[Entry, ...] | None = None
    teams: tuple[Entry, ...] | None = None
    agents: tuple[Entry, ...] | None = None
    routing: RoutingSection | None = None
    sla: tuple[Entry, ...] | None = None
    account_owners: tuple[Entry, ...] | None = None


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0


@dataclass
class ImportReport:
    counts: dict[str, Counts] = field(default_factory=dict)  # the sections the file has
    notes: list[str] = field(default_factory=list)
    replace: bool = False
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated or c.deleted for c in self.counts.values())

    def lines(self) -> list[str]:
        lines = []
        for section, c in self.counts.items():
            line = f"{section}: {c.created} created, {c.updated} updated, {c.unchanged} unchanged"
            lines.append(line + (f", {c.deleted} deleted" if self.replace or c.deleted else ""))
        return lines


# -- checking values ---------------------------------------------------------------------------


def check_tags(name: str, value: object) -> str | None:
    """What is wrong with an agent's skills, languages or channels (None when nothing is).
    Shared by the import and the user admin, so both refuse the same lists."""
    pattern, what, example = TAGS[name]
    if not isinstance(value, list):
        return f"must be a list, such as {example}"
    for i, item in enumerate(value):
        if not isinstance(item, str):
            return f"[{i}] must be text, not {item!r} (put it in quotes)"
        if not pattern.fullmatch(item):
            return f"[{i}] {item!r} is not {what}"
    if len(set(value)) != len(value):
        return "lists a value twice"
    return None


def check_sla(values: dict) -> dict[str | None, str]:
    """Problems with SLA policy fields, by model field name (None: the policy as a whole).
    Shared by the import and the SLA admin; team slugs are checked for form only."""
    problems: dict[str | None, str] = {}
    allowed = {"priorities": (PRIORITIES, "P0 to P4"),
               "breach_actions": (SlaPolicy.Action.values, ", ".join(SlaPolicy.Action.values))}
    for name in ("priorities", "channels", "teams", "breach_actions"):
        value = values.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems[name] = "must be a list of text values"
        elif name in allowed and (bad := [v for v in value if v not in allowed[name][0]]):
            problems[name] = f"unknown value {bad[0]!r} (allowed: {allowed[name][1]})"
        elif name == "channels" and (bad := [v for v in value if not TAGS[name][0].fullmatch(v)]):
            problems[name] = f"{bad[0]!r} is not {TAGS[name][1]}"
        elif name == "teams" and (bad := [v for v in value if not SLUG.fullmatch(v)]):
            problems[name] = f"{bad[0]!r} is not a team slug"
    warn = values.get("warn_at_percent", 75)
    if isinstance(warn, bool) or not isinstance(warn, int) or not 1 <= warn <= 99:
        problems["warn_at_percent"] = f"must be a whole number from 1 to 99, not {warn!r}"
    if not any(values.get(model_field) for model_field in TARGETS.values()):
        problems[None] = "needs at least one target: first response, next response or resolution"
    return problems
