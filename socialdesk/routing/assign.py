"""Who in a team gets a case: the team's strategy over the agents who can take it now.

An agent can take a case when they are active, online, within their working
hours, work the case's channel and are below their capacity (open cases at
once). Crisis and safety cases are forced: capacity is ignored, so they never
wait in a queue behind routine work.

Loads are read once per team and counted up as cases are handed out, so a
batch of a thousand cases costs one query per team, not one per case.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q
from django.utils import timezone

from socialdesk.accounts.models import Team, User
from socialdesk.lib.calendar import Calendar


@dataclass(frozen=True, slots=True)
class Needs:
    """What the case asks of its agent: the skills strategy matches on it."""

    lang: str = ""
    skills: frozenset[str] = frozenset()
    channel: str = ""


@dataclass(frozen=True, slots=True)
class Pick:
    agent: User | None
    why: str


OPEN_STATUSES = ("new", "open", "pending")


class Assigner:
    def __init__(self, now: datetime | None = None):
        self.now = now or timezone.now()
        self._members: dict[int, list[User]] = {}
        self._load: Counter[int] = Counter()
        self._calendars: dict[int, Calendar] = {}
        self._cursors: dict[int, int] = {}  # round robin: team → the last member served

    def members(self, team: Team) -> list[User]:
        """The team's agents who are online and within their hours now, by id."""
        if team.pk not in self._members:
            rows = (User.objects.filter(teams=team, is_active=True,
                                        availability=User.Availability.ONLINE)
                    .select_related("working_hours")
                    .annotate(open_cases=Count("assigned_cases", filter=Q(
                        assigned_cases__status__in=OPEN_STATUSES)))
                    .order_by("id"))
            members = []
            for member in rows:
                if member.pk not in self._load:
                    self._load[member.pk] = member.open_cases
                if self._in_hours(member):
                    members.append(member)
            self._members[team.pk] = members
        return self._members[team.pk]

    def _in_hours(self, member: User) -> bool:
        hours = member.working_hours
        if hours is None:
            return True
        if hours.pk not in self._calendars:
            self._calendars[hours.pk] = hours.calendar()
        return self._calendars[hours.pk].is_open(self.now)

    def load(self, agent: User) -> int:
        return self._load[agent.pk]

    def bump(self, agent: User) -> None:
        """Count a case handed to an agent directly (an account owner)."""
        self._load[agent.pk] += 1

    def free(self, team: Team) -> int:
        """How many more cases the team's available agents can take now."""
        return sum(max(0, m.capacity - self._load[m.pk]) for m in self.members(team))

    def pick(self, team: Team, needs: Needs = Needs(), force: bool = False,
             exclude: frozenset[int] = frozenset()) -> Pick:
        candidates = [m for m in self.members(team)
                      if m.pk not in exclude and (not m.channels or needs.channel in m.channels)]
        if not candidates:
            return Pick(None, f"nobody in {team.slug} is online and within working hours")
        if not force:
            candidates = [m for m in candidates if self._load[m.pk] < m.capacity]
            if not candidates:
                return Pick(None, f"everyone available in {team.slug} is at capacity; "
                                  "the case waits in the team's queue")
        if force:
            chosen = min(candidates, key=lambda m: (self._load[m.pk], m.pk))
            why = f"urgent: least loaded available member of {team.slug}, capacity aside"
        elif team.strategy == Team.Strategy.ROUND_ROBIN:
            chosen, why = self._round_robin(team, candidates)
        elif team.strategy == Team.Strategy.SKILLS:
            chosen, why = self._by_skills(team, candidates, needs)
        else:
            chosen = min(candidates, key=lambda m: (self._load[m.pk], m.pk))
            why = f"least loaded member of {team.slug}"
        why += f" ({self._load[chosen.pk]} of {chosen.capacity} open before this)"
        self._load[chosen.pk] += 1
        return Pick(chosen, why)

    def _round_robin(self, team: Team, candidates: list[User]) -> tuple[User, str]:
        # The member after the last one served, wrapping around; members who
        # cannot take a case now are skipped, not owed a turn.
        last = self._cursors.get(team.pk, team.last_assignee_id or 0)
        chosen = next((m for m in candidates if m.pk > last), candidates[0])
        self._cursors[team.pk] = chosen.pk
        return chosen, f"round robin in {team.slug}"

    def _by_skills(self, team: Team, candidates: list[User],
                   needs: Needs) -> tuple[User, str]:
        why = []
        if needs.lang:
            speakers = [m for m in candidates if needs.lang in m.languages]
            if speakers:
                candidates = speakers
                why.append(f"speaks {needs.lang}")
            else:
                why.append(f"nobody available speaks {needs.lang}")
        chosen = min(candidates, key=lambda m: (-len(needs.skills.intersection(m.skills)),
                                                self._load[m.pk], m.pk))
        matched = sorted(needs.skills.intersection(chosen.skills))
        if matched:
            why.append("skills " + ", ".join(matched))
        return chosen, f"skills match in {team.slug}: " + "; ".join(why + ["least loaded"])

    def save(self) -> None:
        """Keep the round robin cursors for the next batch."""
        for team_id, user_id in self._cursors.items():
            Team.objects.filter(pk=team_id).update(last_assignee=user_id)


def escalation_chain(team: Team | None) -> list[User]:
    """The team's supervisor, then each parent team's, up the tree (no repeats)."""
    chain: list[User] = []
    seen: set[int] = set()
    while team is not None and team.pk not in seen:
        seen.add(team.pk)
        supervisor = team.supervisor
        if supervisor is not None and supervisor.is_active and supervisor not in chain:
            chain.append(supervisor)
        team = team.parent
    return chain


def alert_chain(team: Team | None, levels: int | None = None,
                admins: list[User] | None = None) -> list[User]:
    """Who hears of an escalation or a missed target: the team's chain (its first
    `levels` people), or the admins when it has none (`admins` when the caller
    already has them)."""
    chain = escalation_chain(team)[:levels]
    if chain:
        return chain
    if admins is None:
        admins = list(User.objects.filter(role=User.Role.ADMIN, is_active=True))
    return admins
