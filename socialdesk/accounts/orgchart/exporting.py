"""Writing the desk's org chart in the form `parse_org` reads."""


import yaml

from socialdesk.accounts.models import BusinessCalendar, Team, User
from socialdesk.accounts.orgchart.schema import (
    TARGETS,
)
from socialdesk.cases.models import SlaPolicy
from socialdesk.contacts.models import Identity
from socialdesk.routing.models import RoutingRule, fallback_team

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
