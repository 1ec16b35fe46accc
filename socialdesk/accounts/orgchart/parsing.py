"""Reading an org chart document: every value and every reference checked."""

import re
from datetime import date

import yaml
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from socialdesk.accounts.models import BusinessCalendar, Team, User
from socialdesk.accounts.orgchart.schema import (
    FIELDS,
    SECTIONS,
    SLUG,
    TAGS,
    TARGETS,
    USERNAME,
    Entry,
    OrgChart,
    OrgError,
    RoutingSection,
    check_sla,
    check_tags,
)
from socialdesk.contacts.models import Contact
from socialdesk.lib.calendar import Calendar, CalendarError
from socialdesk.routing.rules import ACCOUNT_OWNER, RoutingError, default_rules, parse_rules
from socialdesk.triage.policy import PolicyError, parse_duration

# -- checking values ---------------------------------------------------------------------------


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
