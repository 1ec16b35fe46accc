"""Metrics by the definitions of docs/METRICS.md.

The first report computes from posts and cases directly, over a date range;
the rollup tables that will serve large installations come with the full
analytics. Every figure here is counted from stored rows, never estimated.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Exists, F, Min, OuterRef, Q
from django.utils import timezone

from socialdesk.accounts.models import User
from socialdesk.cases.models import Case
from socialdesk.cases.queries import cases_visible_to, is_admin
from socialdesk.ingestion.models import Post
from socialdesk.triage.policy import NEEDS_RESPONSE


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (NumPy's default), p in [0, 100]."""
    if not sorted_values:
        return None
    rank = (len(sorted_values) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


@dataclass
class Durations:
    """Seconds; p50/p90/p95 and mean, as METRICS.md asks."""

    values: list[float] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.values)

    def p(self, q: float) -> float | None:
        return percentile(sorted(self.values), q)

    @property
    def p50(self):
        return self.p(50)

    @property
    def p90(self):
        return self.p(90)

    @property
    def p95(self):
        return self.p(95)

    @property
    def mean(self) -> float | None:
        return sum(self.values) / len(self.values) if self.values else None


@dataclass
class ChannelRow:
    channel: str
    volume: int = 0
    needs_response: int = 0
    responded: int = 0
    frt: Durations = field(default_factory=Durations)

    @property
    def response_rate(self) -> float | None:
        return self.responded / self.needs_response if self.needs_response else None


def _in_range(field_name: str, start: date | None, end: date | None) -> Q:
    """Dates are whole days in the desk's time zone, both ends included."""
    q = Q()
    tz = timezone.get_current_timezone()
    if start:
        q &= Q(**{f"{field_name}__gte": datetime.combine(start, time.min, tz)})
    if end:
        q &= Q(**{f"{field_name}__lt": datetime.combine(end + timedelta(days=1), time.min, tz)})
    return q


def agent_replies():
    """Outbound posts written by people (imported brand replies or sent from the desk)."""
    return Post.objects.filter(direction=Post.Direction.OUTBOUND, is_automated=False)


def channel_report(start: date | None = None, end: date | None = None,
                   user: User | None = None) -> list[ChannelRow]:
    """Volume, response rate and first response time per channel, by arrival date.

    `user`: count only the cases that person may see (cases_visible_to), so that a
    report never tells an agent or a supervisor about another team's work; None (the
    command line, jobs) and an admin: the whole desk, posts not yet filed included.
    """
    rows: dict[str, ChannelRow] = {}
    inbound = Post.objects.filter(_in_range("created_at", start, end),
                                  direction=Post.Direction.INBOUND)
    cases = Case.objects.all()
    if user is not None and not is_admin(user):
        cases = cases_visible_to(user)
        inbound = inbound.filter(case__in=cases)
    for item in inbound.values("channel").annotate(n=Count("id")):
        rows.setdefault(item["channel"], ChannelRow(item["channel"])).volume = item["n"]

    replied = agent_replies().filter(case=OuterRef("case"), created_at__gte=OuterRef("created_at"))
    needing = (inbound.filter(triage__decision__in=NEEDS_RESPONSE)
               .annotate(responded=Exists(replied)))
    for item in needing.values("channel").annotate(
        n=Count("id"), done=Count("id", filter=Q(responded=True))
    ):
        row = rows.setdefault(item["channel"], ChannelRow(item["channel"]))
        row.needs_response, row.responded = item["n"], item["done"]

    cases = cases.filter(_in_range("opened_at", start, end)).annotate(first_reply=Min(
        "posts__created_at",
        filter=Q(posts__direction=Post.Direction.OUTBOUND, posts__is_automated=False,
                 posts__created_at__gte=F("opened_at")),
    )).filter(first_reply__isnull=False)
    for channel, opened, first_reply in cases.values_list("channel", "opened_at", "first_reply"):
        row = rows.setdefault(channel, ChannelRow(channel))
        row.frt.values.append((first_reply - opened).total_seconds())
    return sorted(rows.values(), key=lambda r: -r.volume)
