"""Applying a checked org chart to the database in one transaction."""


from django.db import transaction
from django.db.models import ProtectedError

from socialdesk.accounts.models import BusinessCalendar, Team, User
from socialdesk.accounts.orgchart.parsing import check_references
from socialdesk.accounts.orgchart.schema import (
    POSITION_STEP,
    TARGETS,
    Counts,
    ImportReport,
    OrgChart,
    OrgError,
    RoutingSection,
    check_sla,
)
from socialdesk.audit.actions import do_record
from socialdesk.cases.models import SlaPolicy
from socialdesk.contacts.actions import do_resolve_identities
from socialdesk.contacts.models import Contact, Identity
from socialdesk.routing.models import RoutingRule, RoutingSettings, fallback_team

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
