"""Route triaged posts to teams, and pick an agent by the team's strategy."""

from collections import Counter

from django.db.models import Count, Q

from socialdesk.accounts.models import Team, User
from socialdesk.routing.models import RoutingRule
from socialdesk.routing.rules import Route, RuleSet, default_rules, parse_rules, route


def active_rules() -> RuleSet:
    rows = list(RoutingRule.objects.filter(enabled=True))
    if not rows:
        return default_rules()
    fallback = default_rules().fallback
    return parse_rules({
        "fallback": fallback,
        "rules": [{"name": r.name, "when": r.when, "team": r.team} for r in rows],
    })


def route_one(ruleset: RuleSet, facts: dict) -> Route:
    return route(ruleset, facts)


class Assigner:
    """Least loaded first, among online members within their capacity.

    Loads are read once per batch and counted up as cases are handed out, so
    a batch of a thousand cases costs one query per team, not one per case.
    """

    def __init__(self):
        self._members: dict[int, list[User]] = {}
        self._load: Counter[int] = Counter()

    def _team_members(self, team: Team) -> list[User]:
        if team.pk not in self._members:
            from socialdesk.cases.models import Case

            members = list(
                User.objects.filter(teams=team, is_active=True,
                                    availability=User.Availability.ONLINE)
                .annotate(open_cases=Count("assigned_cases", filter=Q(
                    assigned_cases__status__in=Case.OPEN_STATUSES)))
                .order_by("id")
            )
            for m in members:
                self._load[m.pk] = m.open_cases
            self._members[team.pk] = members
        return self._members[team.pk]

    def pick(self, team: Team) -> User | None:
        candidates = [m for m in self._team_members(team) if self._load[m.pk] < m.capacity]
        if not candidates:
            return None
        chosen = min(candidates, key=lambda m: (self._load[m.pk], m.pk))
        self._load[chosen.pk] += 1
        return chosen
