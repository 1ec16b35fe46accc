"""The org chart as one YAML document: business calendars, teams, agents, routing
rules, SLA policies and account owners (docs/ORG.md describes the format).

`parse_org` checks a document, its references to rows already in the database
included; `do_import_org` applies it in one transaction; `export_org` writes the
desk's org chart in the same form, so that importing an export changes nothing.

A key the file gives sets that field (null clears it); a key it leaves out keeps
the stored value, and a new row gets the model's default. Nothing is deleted
unless the import is told to replace, and users are never deleted.
"""

import re
from dataclasses import dataclass, field
from datetime import date

import yaml
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import ProtectedError

from socialdesk.accounts.models import BusinessCalendar, Team, User
from socialdesk.audit.actions import do_record
from socialdesk.cases.models import SlaPolicy
from socialdesk.contacts.actions import do_resolve_identities
from socialdesk.contacts.models import Contact, Identity
from socialdesk.lib.calendar import Calendar, CalendarError
from socialdesk.lib.conditions import PRIORITIES
from socialdesk.routing.models import RoutingRule, RoutingSettings, fallback_team
from socialdesk.routing.rules import ACCOUNT_OWNER, RoutingError, default_rules, parse_rules
from socialdesk.triage.policy import PolicyError, parse_duration

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


def _keys(item: object, section: str, place: str) -> dict:
    if not isinstance(item, dict):
        raise OrgError(f"{place}: must be a mapping with {', '.join(FIELDS[section])}")
    unknown = sorted(str(k) for k in item if k not in FIELDS[section])
    if unknown:
        raise OrgError(f"{place}: unknown field {unknown[0]!r} "
                       f"(known: {', '.join(FIELDS[section])})")
    return item


def _key(item: dict, name: str, pattern: re.Pattern, what: str, where: str) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise OrgError(f"{where}: {name} must be {what}, not {value!r}")
    return value


def _text(value: object, place: str, name: str, most: int) -> str:
    if not isinstance(value, str) or len(value) > most:
        raise OrgError(f"{place}: {name} must be text of at most {most} characters")
    return value.strip()


def _choice(value: object, choices: list[str], place: str, name: str) -> str:
    if value not in choices:
        raise OrgError(f"{place}: {name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _reference(value: object, place: str, name: str, pattern: re.Pattern = SLUG) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise OrgError(f"{place}: {name} must be a slug or username, not {value!r}")
    return value


def _duration(value: object, place: str, name: str) -> int | None:
    try:
        return parse_duration(value, f"{place}: {name}")
    except PolicyError as e:
        raise OrgError(str(e)) from None


def _bool(value: object, place: str, name: str) -> bool:
    if not isinstance(value, bool):
        raise OrgError(f"{place}: {name} must be true or false, not {value!r}")
    return value


# -- parsing -----------------------------------------------------------------------------------


def parse_org(text: str) -> OrgChart:
    """Check an org chart written as YAML; OrgError names the place of the first problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise OrgError(f"not valid YAML: {e}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise OrgError(f"expected a mapping with some of: {', '.join(SECTIONS)}")
    unknown = sorted(str(k) for k in data if k not in SECTIONS)
    if unknown:
        raise OrgError(f"unknown section {unknown[0]!r} (known: {', '.join(SECTIONS)})")
    sections = {}
    for section, parse in (("calendars", _calendar), ("teams", _team), ("agents", _agent),
                           ("sla", _sla), ("account_owners", _owner)):
        if section in data:
            sections[section] = _entries(data[section], section, parse)
    if "routing" in data:
        sections["routing"] = _routing(data["routing"])
    chart = OrgChart(**sections)
    check_references(chart)
    return chart


def _entries(items: object, section: str, parse) -> tuple[Entry, ...]:
    if items is None:
        items = []
    if not isinstance(items, list):
        raise OrgError(f"{section}: must be a list")
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(items):
        entry = parse(_keys(item, section, f"{section}[{i}]"), f"{section}[{i}]")
        if entry.key in seen:
            raise OrgError(f"{entry.place}: {entry.key!r} is listed twice "
                           f"(first at {seen[entry.key]})")
        seen[entry.key] = entry.place
        entries.append(entry)
    return tuple(entries)


def _calendar(item: dict, where: str) -> Entry:
    slug = _key(item, "slug", SLUG, "a slug such as uk-office", where)
    place = f"{where} ({slug})"
    fields = {}
    if "name" in item:
        fields["name"] = _text(item["name"], place, "name", 120)
    if "timezone" in item:
        fields["timezone"] = _text(item["timezone"], place, "timezone", 64)
    if "hours" in item:
        fields["hours"] = item["hours"]
    if "holidays" in item:
        holidays = item["holidays"] or []
        # YAML reads an unquoted 2026-12-25 as a date; the JSON column needs text.
        if isinstance(holidays, list):
            holidays = [h.isoformat() if type(h) is date else h for h in holidays]
        fields["holidays"] = holidays
    stored = BusinessCalendar.objects.filter(slug=slug).first() or BusinessCalendar()
    spec = {name: fields.get(name, getattr(stored, name))
            for name in ("timezone", "hours", "holidays")}
    try:
        Calendar.from_spec(spec["timezone"], spec["hours"], spec["holidays"])
    except CalendarError as e:
        raise OrgError(f"{place}: {e}") from None
    return Entry(slug, place, fields)


def _team(item: dict, where: str) -> Entry:
    slug = _key(item, "slug", SLUG, "a slug such as care-tier-1", where)
    place = f"{where} ({slug})"
    fields: dict = {}
    if "name" in item:
        fields["name"] = _text(item["name"], place, "name", 120)
    for name in ("parent", "calendar"):
        if name in item:
            fields[name] = _reference(item[name], place, name)
    if "supervisor" in item:
        fields["supervisor"] = _reference(item["supervisor"], place, "supervisor", USERNAME)
    if "strategy" in item:
        fields["strategy"] = _choice(item["strategy"], Team.Strategy.values, place, "strategy")
    if "reassign_after_minutes" in item:
        fields["reassign_after_minutes"] = _duration(item["reassign_after_minutes"], place,
                                                     "reassign_after_minutes")
    if fields.get("parent") == slug:
        raise OrgError(f"{place}: a team cannot be its own parent")
    return Entry(slug, place, fields)


def _agent(item: dict, where: str) -> Entry:
    username = _key(item, "username", USERNAME,
                    "a username (letters, digits and @ . + - _)", where)
    place = f"{where} ({username})"
    fields: dict = {}
    if "name" in item:
        fields["name"] = _text(item["name"] or "", place, "name", 300)
    if "email" in item:
        email = _text(item["email"] or "", place, "email", 254)
        try:
            if email:
                validate_email(email)
        except ValidationError:
            raise OrgError(f"{place}: email {email!r} is not an email address") from None
        fields["email"] = email
    if "role" in item:
        fields["role"] = _choice(item["role"], User.Role.values, place, "role")
    if "availability" in item:
        fields["availability"] = _choice(item["availability"], User.Availability.values, place,
                                         "availability")
    if "capacity" in item:
        capacity = item["capacity"]
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
            raise OrgError(f"{place}: capacity must be a whole number of open cases, "
                           f"not {capacity!r}")
        fields["capacity"] = capacity
    for name in TAGS:
        if name in item:
            value = item[name] or []
            problem = check_tags(name, value)
            if problem:
                raise OrgError(f"{place}: {name}{'' if problem[0] == '[' else ' '}{problem}")
            fields[name] = value
    if "teams" in item:
        teams = item["teams"] or []
        if not isinstance(teams, list) or not all(isinstance(t, str) and SLUG.fullmatch(t)
                                                  for t in teams):
            raise OrgError(f"{place}: teams must be a list of team slugs, not {teams!r}")
        fields["teams"] = teams
    if "working_hours" in item:
        fields["working_hours"] = _reference(item["working_hours"], place, "working_hours")
    return Entry(username, place, fields)


def _routing(data: object) -> RoutingSection:
    if not isinstance(data, dict):
        raise OrgError("routing: must be a mapping with fallback and rules")
    unknown = sorted(str(k) for k in data if k not in ("fallback", "rules"))
    if unknown:
        raise OrgError(f"routing: unknown field {unknown[0]!r} (known: fallback, rules)")
    fallback = data.get("fallback", default_rules().fallback)
    if not isinstance(fallback, str) or not SLUG.fullmatch(fallback):
        raise OrgError(f"routing: fallback must be a team slug, not {fallback!r}")
    entries = _entries(data.get("rules"), "routing.rules", _rule)
    try:
        # The rule language's own check, so the desk will accept what this file installs.
        parse_rules({"fallback": fallback, "rules": [
            {"name": e.key, "when": e.fields["when"], "team": e.fields["team"]}
            for e in entries]})
    except RoutingError as e:
        raise OrgError(str(e)) from None
    return RoutingSection(fallback, tuple(entries))


def _rule(item: dict, where: str) -> Entry:
    name = _key(item, "name", SLUG, "a slug such as legal-threats", where)
    place = f"{where} ({name})"
    team = item.get("team")
    if not isinstance(team, str) or not SLUG.fullmatch(team):
        raise OrgError(f"{place}: team must be a team slug or {ACCOUNT_OWNER}, not {team!r}")
    when = item.get("when") or {}
    enabled = _bool(item.get("enabled", True), place, "enabled")
    return Entry(name, place, {"when": when, "team": team, "enabled": enabled})


def _sla(item: dict, where: str) -> Entry:
    name = _key(item, "name", SLUG, "a slug such as urgent", where)
    place = f"{where} ({name})"
    fields: dict = {}
    for key in ("priorities", "channels", "teams", "breach_actions"):
        if key in item:
            fields[key] = item[key] or []
    for key, model_field in TARGETS.items():
        if key in item:
            fields[model_field] = _duration(item[key], place, key)
    if "warn_at_percent" in item:
        fields["warn_at_percent"] = item["warn_at_percent"]
    if "enabled" in item:
        fields["enabled"] = _bool(item["enabled"], place, "enabled")
    problems = check_sla(fields)
    if not set(TARGETS) <= set(item):
        # Targets the file leaves out may be stored already; the import checks the result.
        problems.pop(None, None)
    if problems:
        name_of = {v: k for k, v in TARGETS.items()}
        key, problem = next(iter(problems.items()))
        raise OrgError(f"{place}: {problem}" if key is None
                       else f"{place}: {name_of.get(key, key)}: {problem}")
    return Entry(name, place, fields)


def _owner(item: dict, where: str) -> Entry:
    channel = _key(item, "channel", TAGS["channels"][0], TAGS["channels"][1], where)
    handle = item.get("handle")
    if not isinstance(handle, str) or not handle.lstrip("@").strip() or len(handle) > 255:
        raise OrgError(f"{where}: handle must be the contact's handle on {channel}, "
                       f"not {handle!r}")
    handle = handle.strip().lstrip("@")
    place = f"{where} ({channel}:{handle})"
    owner = _reference(item.get("owner"), place, "owner", USERNAME)
    if owner is None:
        raise OrgError(f"{place}: owner must be the username of the owning agent")
    fields = {"owner": owner}
    if "tier" in item:
        fields["tier"] = _choice(item["tier"] or "", Contact.Tier.values, place, "tier")
    return Entry(f"{channel}:{handle}", place, fields)


# -- references --------------------------------------------------------------------------------


def check_references(chart: OrgChart, replace: bool = False) -> None:
    """Every slug and username the file names must be in the file or the database. With
    `replace`, the teams and calendars of a section the file has must be in the file: the
    others are about to be deleted."""

    def known(section, model, key="slug", deletes=True):
        listed = {e.key for e in getattr(chart, section) or ()}
        if deletes and replace and getattr(chart, section) is not None:
            return listed, "in this file (--replace deletes the others)"
        return (listed | set(model.objects.values_list(key, flat=True)),
                "in this file or the database")

    teams, calendars = known("teams", Team), known("calendars", BusinessCalendar)
    users = known("agents", User, "username", deletes=False)

    def check(entry, name, value, pool, what):
        if value is not None and value not in pool[0]:
            raise OrgError(f"{entry.place}: {name} {value!r} is not {what} {pool[1]}")

    for e in chart.teams or ():
        check(e, "parent", e.fields.get("parent"), teams, "a team")
        check(e, "calendar", e.fields.get("calendar"), calendars, "a calendar")
        check(e, "supervisor", e.fields.get("supervisor"), users, "a user")
    for e in chart.agents or ():
        for slug in e.fields.get("teams", ()):
            check(e, "team", slug, teams, "a team")
        check(e, "working_hours", e.fields.get("working_hours"), calendars, "a calendar")
    if chart.routing:
        for e in chart.routing.rules:
            check(e, "team", e.fields["team"], (teams[0] | {ACCOUNT_OWNER}, teams[1]), "a team")
        if chart.routing.fallback not in teams[0]:
            raise OrgError(f"routing: fallback {chart.routing.fallback!r} is not a team "
                           f"{teams[1]}")
    for e in chart.sla or ():
        for slug in e.fields.get("teams", ()):
            check(e, "team", slug, teams, "a team")
    for e in chart.account_owners or ():
        check(e, "owner", e.fields["owner"], users, "a user")
    _check_cycles(chart)


def _check_cycles(chart: OrgChart) -> None:
    parents = dict(Team.objects.filter(parent__isnull=False)
                   .values_list("slug", "parent__slug"))
    for e in chart.teams or ():
        if "parent" in e.fields:
            parents[e.key] = e.fields["parent"]
    for e in chart.teams or ():
        chain = [e.key]
        while (parent := parents.get(chain[-1])) is not None:
            if parent in chain:
                raise OrgError(f"{e.place}: parent {e.fields.get('parent', parents[e.key])!r} "
                               f"makes a cycle: {' → '.join([*chain, parent])}")
            chain.append(parent)


# -- importing ---------------------------------------------------------------------------------


def _apply(row, fields: dict) -> bool:
    """Set the fields that differ; True when the row was saved."""
    changed = [name for name, value in fields.items() if getattr(row, name) != value]
    for name in changed:
        setattr(row, name, fields[name])
    if changed:
        row.save(update_fields=changed)
    return bool(changed)


def _positions(rows: list, step: int = POSITION_STEP) -> list[int]:
    """Strictly rising positions for rows in the file's order, keeping the stored position
    of each row that is already in order, so that re-importing an export moves nothing."""
    positions, last = [], 0
    for row in rows:
        position = row.position if row is not None and row.position > last else last + step
        positions.append(position)
        last = position
    return positions


@transaction.atomic
def do_import_org(chart: OrgChart, actor=None, replace: bool = False,
                  dry_run: bool = False) -> ImportReport:
    """Apply a checked org chart: all of it or (OrgError) none of it. Rows are matched by
    slug, username or name; with `replace`, what a section the file has does not list is
    deleted, except users, who are only taken off their teams. A dry run reports the same
    counts and rolls everything back."""
    check_references(chart, replace)
    report = ImportReport(replace=replace, dry_run=dry_run)
    calendars = {c.slug: c for c in BusinessCalendar.objects.select_for_update()}
    teams = {t.slug: t for t in Team.objects.select_for_update()}
    if chart.calendars is not None:
        counts = report.counts["calendars"] = Counts()
        for e in chart.calendars:
            row = calendars.get(e.key)
            if row is None:
                fields = {"name": e.key.replace("-", " ").title(), **e.fields}
                calendars[e.key] = BusinessCalendar.objects.create(slug=e.key, **fields)
                counts.created += 1
            else:
                _count(counts, _apply(row, e.fields))
    # Teams first without their references: parents, supervisors and members may be new too.
    new_teams = set()
    for e in chart.teams or ():
        if e.key not in teams:
            name = e.fields.get("name", e.key.replace("-", " ").replace("_", " ").title())
            teams[e.key] = Team.objects.create(slug=e.key, name=name)
            new_teams.add(e.key)
    if chart.teams is not None:
        report.counts["teams"] = Counts(created=len(new_teams))
    if chart.agents is not None:
        report.counts["agents"] = _import_agents(chart.agents, teams, calendars, replace, report)
    if chart.teams is not None:
        counts = report.counts["teams"]
        users = dict(User.objects.values_list("username", "id"))
        for e in chart.teams:
            fields = dict(e.fields)
            for name, pool in (("parent", teams), ("calendar", calendars), ("supervisor", None)):
                if name in fields:
                    value = fields.pop(name)
                    if value is not None:
                        value = users[value] if pool is None else pool[value].pk
                    fields[name + "_id"] = value
            changed = _apply(teams[e.key], fields)
            if e.key not in new_teams:
                _count(counts, changed)
        if replace:
            _delete(Team.objects.exclude(slug__in=[e.key for e in chart.teams]), counts,
                    "team", "it still has cases; list it in the file or move its cases first")
    if chart.routing is not None:
        report.counts["routing"] = _import_rules(chart.routing)
        if chart.routing.fallback != fallback_team():
            RoutingSettings.objects.update_or_create(
                pk=1, defaults={"fallback": chart.routing.fallback})
            report.counts["routing"].updated += 1
    if chart.sla is not None:
        report.counts["sla"] = _import_sla(chart.sla, replace)
    if chart.account_owners is not None:
        report.counts["account_owners"] = _import_owners(chart.account_owners, replace)
    if replace and chart.calendars is not None:
        _delete(BusinessCalendar.objects.exclude(slug__in=[e.key for e in chart.calendars]),
                report.counts["calendars"], "calendar",
                "a team or agent the file does not list still uses it")
    if report.changed and not dry_run:
        do_record("org.imported", actor=actor, replace=replace, **{
            section: {"created": c.created, "updated": c.updated, "deleted": c.deleted}
            for section, c in report.counts.items()})
    if dry_run:
        transaction.set_rollback(True)
    return report


def _count(counts: Counts, changed: bool) -> None:
    if changed:
        counts.updated += 1
    else:
        counts.unchanged += 1


def _delete(queryset, counts: Counts, what: str, why: str) -> None:
    for row in queryset:
        try:
            with transaction.atomic():
                row.delete()
        except ProtectedError:
            raise OrgError(f"cannot delete {what} {row.slug!r} (not in the file): {why}") from None
        counts.deleted += 1


def _import_agents(entries, teams, calendars, replace, report) -> Counts:
    counts = Counts()
    users = {u.username: u for u in User.objects.filter(username__in=[e.key for e in entries])
             .prefetch_related("teams")}
    for e in entries:
        fields = {k: v for k, v in e.fields.items() if k not in ("name", "teams", "working_hours")}
        if "working_hours" in e.fields:
            slug = e.fields["working_hours"]
            fields["working_hours_id"] = calendars[slug].pk if slug else None
        user = users.get(e.key)
        if "name" in e.fields and (user is None or user.get_full_name() != e.fields["name"]):
            first, _, last = e.fields["name"].partition(" ")
            fields.update(first_name=first[:150], last_name=last.strip()[:150])
        created = user is None
        if created:
            user = User(username=e.key, **fields)
            user.set_unusable_password()
            # The role carries the admin's rights, as `socialdesk createuser` gives them.
            user.is_staff = user.is_superuser = user.role == User.Role.ADMIN
            user.save()
            changed = True
        else:
            if "role" in fields and fields["role"] != user.role:
                is_admin = fields["role"] == User.Role.ADMIN
                fields.update(is_staff=is_admin, is_superuser=is_admin)
            changed = _apply(user, fields)
        if "teams" in e.fields:
            wanted = {teams[slug].pk for slug in e.fields["teams"]}
            if wanted != {t.pk for t in user.teams.all()}:
                user.teams.set(wanted)
                changed = True
        if created:
            counts.created += 1
        else:
            _count(counts, changed)
    if replace:
        others = User.objects.exclude(username__in=[e.key for e in entries]).filter(
            teams__isnull=False).distinct().order_by("username")
        names = []
        for user in others:
            user.teams.clear()
            names.append(user.username)
        if names:
            counts.updated += len(names)
            report.notes.append("agents: taken off their teams (not in the file): "
                                + ", ".join(names))
    return counts


def _import_rules(section: RoutingSection) -> Counts:
    counts = Counts()
    rows = {r.name: r for r in RoutingRule.objects.select_for_update()}
    listed = [rows.get(e.key) for e in section.rules]
    for e, row, position in zip(section.rules, listed, _positions(listed), strict=True):
        fields = {**e.fields, "position": position}
        if row is None:
            RoutingRule.objects.create(name=e.key, **fields)
            counts.created += 1
        else:
            _count(counts, _apply(row, fields))
    # The section is the whole rule list: first match wins, so a rule left over would
    # change what the listed ones mean.
    gone = set(rows) - {e.key for e in section.rules}
    counts.deleted = RoutingRule.objects.filter(name__in=gone).delete()[0]
    return counts


def _import_sla(entries, replace: bool) -> Counts:
    counts = Counts()
    rows = {p.name: p for p in SlaPolicy.objects.select_for_update()}
    listed = [rows.get(e.key) for e in entries]
    for e, row, position in zip(entries, listed, _positions(listed), strict=True):
        fields = {**e.fields, "position": position}
        result = row or SlaPolicy(name=e.key)
        problems = check_sla({name: fields.get(name, getattr(result, name))
                              for name in [*TARGETS.values(), "warn_at_percent"]})
        if None in problems:
            raise OrgError(f"{e.place}: {problems[None]}")
        if row is None:
            SlaPolicy.objects.create(name=e.key, **fields)
            counts.created += 1
        else:
            _count(counts, _apply(row, fields))
    if replace:
        gone = set(rows) - {e.key for e in entries}
        counts.deleted = SlaPolicy.objects.filter(name__in=gone).delete()[0]
    return counts


def _import_owners(entries, replace: bool) -> Counts:
    counts = Counts()
    keys = {e.key: tuple(e.key.split(":", 1)) for e in entries}
    known = {(i.channel, i.handle): i.contact_id for i in Identity.objects.filter(
        channel__in={c for c, _ in keys.values()}, handle__in={h for _, h in keys.values()})}
    missing = {key: ("", None) for key in keys.values() if key not in known}
    if missing:
        ids = do_resolve_identities(missing)
        contact_of = dict(Identity.objects.filter(pk__in=ids.values())
                          .values_list("id", "contact_id"))
        known.update({key: contact_of[pk] for key, pk in ids.items()})
    owners = dict(User.objects.values_list("username", "id"))
    contacts = Contact.objects.in_bulk({known[k] for k in keys.values()})
    for e in entries:
        contact = contacts[known[keys[e.key]]]
        fields = {"account_owner_id": owners[e.fields["owner"]]}
        if "tier" in e.fields:
            fields["tier"] = e.fields["tier"]
        changed = _apply(contact, fields)
        if keys[e.key] in missing:
            counts.created += 1
        else:
            _count(counts, changed)
    if replace:
        counts.deleted = (Contact.objects.filter(account_owner__isnull=False)
                          .exclude(pk__in=contacts).update(account_owner=None))
    return counts


# -- exporting ---------------------------------------------------------------------------------


def _duration_text(minutes: int | None) -> str | None:
    if minutes is None:
        return None
    for unit, size in (("d", 1440), ("h", 60)):
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


class _Dumper(yaml.SafeDumper):
    """Mappings one field a line, lists of plain values on one line: reads like the docs."""


def _represent_list(dumper: yaml.SafeDumper, value: list):
    flow = all(not isinstance(item, dict | list) for item in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_Dumper.add_representer(list, _represent_list)


def export_org() -> str:
    """The whole org chart as YAML, every field written out, parents before children."""
    teams = list(Team.objects.select_related("parent", "supervisor", "calendar"))
    children: dict[int | None, list[Team]] = {}
    for team in teams:
        children.setdefault(team.parent_id, []).append(team)
    ordered: list[Team] = []

    def walk(parent_id):
        for team in sorted(children.get(parent_id, ()), key=lambda t: t.slug):
            ordered.append(team)
            walk(team.pk)

    walk(None)
    users = (User.objects.filter(is_active=True).select_related("working_hours")
             .prefetch_related("teams").order_by("username"))
    owned = {}
    for identity in (Identity.objects.filter(contact__account_owner__isnull=False)
                     .select_related("contact__account_owner").order_by("contact_id", "id")):
        owned.setdefault(identity.contact_id, identity)
    data = {
        "calendars": [{"slug": c.slug, "name": c.name, "timezone": c.timezone,
                       "hours": c.hours, "holidays": list(c.holidays)}
                      for c in BusinessCalendar.objects.order_by("slug")],
        "teams": [{"slug": t.slug, "name": t.name,
                   "parent": t.parent.slug if t.parent else None,
                   "supervisor": t.supervisor.username if t.supervisor else None,
                   "calendar": t.calendar.slug if t.calendar else None,
                   "strategy": t.strategy, "reassign_after_minutes": t.reassign_after_minutes}
                  for t in ordered],
        "agents": [{"username": u.username, "name": u.get_full_name(), "email": u.email,
                    "role": u.role, "teams": sorted(t.slug for t in u.teams.all()),
                    "capacity": u.capacity, "skills": u.skills, "languages": u.languages,
                    "channels": u.channels,
                    "working_hours": u.working_hours.slug if u.working_hours else None,
                    "availability": u.availability} for u in users],
        "routing": {"fallback": fallback_team(),
                    "rules": [{"name": r.name, "when": r.when, "team": r.team,
                               "enabled": r.enabled} for r in RoutingRule.objects.all()]},
        "sla": [{"name": p.name, "priorities": p.priorities, "channels": p.channels,
                 "teams": p.teams, **{key: _duration_text(getattr(p, model_field))
                                      for key, model_field in TARGETS.items()},
                 "warn_at_percent": p.warn_at_percent, "breach_actions": p.breach_actions,
                 "enabled": p.enabled} for p in SlaPolicy.objects.all()],
        "account_owners": [{"channel": i.channel, "handle": i.handle,
                            "owner": i.contact.account_owner.username, "tier": i.contact.tier}
                           for i in owned.values()],
    }
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=100)
