"""Volume spikes: a burst of posts on one subject, far above its usual rate.

A subject is a brand topic ("topic:delivery") or a risk cue ("cue:outage").
Posts are counted per subject and quarter hour of their own time
(`created_at`), in the VolumeCount table. When a batch is processed, a watched
subject spikes in a quarter hour when the policy's `window` ending with it
holds at least `min_posts` of the subject's posts, at a rate at least `factor`
times the subject's rate over the `baseline` before the window. Every post of
the batch on a spiking subject gets the `volume_spike` cue with what spiked as
its evidence, and the policy decides its severity and outcome again; posts of
earlier batches keep the decision they were given.

The maths (`tally`, `find_spikes`, `mark`) are pure functions, shared by the
pipeline and by `socialdesk policy simulate --posts FILE`; the database part
is one read and one upsert per batch.
"""

from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from socialdesk.triage.engine import PostInput, TriageResult, add_cue
from socialdesk.triage.models import VolumeCount
from socialdesk.triage.policy import (
    MAX_SPIKE_BASELINE_MINUTES,
    MAX_SPIKE_WINDOW_MINUTES,
    VOLUME_BUCKET_MINUTES,
    Policy,
    VolumeSpike,
)

CUE = "volume_spike"
# Every counted post, whatever its subject: the earliest quarter hour of this
# series is where the desk's counting (its history) starts.
ALL = "all"
BUCKET = timedelta(minutes=VOLUME_BUCKET_MINUTES)
_BUCKET_SECONDS = VOLUME_BUCKET_MINUTES * 60
# A subject's usual rate needs history: until the desk has counted for a day
# before a window (or the whole baseline, when that is shorter) it calls no
# spike, or a new desk's first busy hour would page PR. The rate is taken over
# the part of the baseline that was counted.
WARM_UP_MINUTES = 24 * 60
# Counts older than the longest window and baseline a policy may give are pruned.
RETENTION = timedelta(minutes=MAX_SPIKE_WINDOW_MINUTES + MAX_SPIKE_BASELINE_MINUTES)
UPSERT_ROWS = 1000

# Posts per (subject key, quarter hour start in UTC).
Tally = Counter[tuple[str, datetime]]
# A post being processed: its input, its triage so far, and its time.
Entry = tuple[PostInput, TriageResult, datetime]


def bucket_of(moment: datetime) -> datetime:
    """The start of the quarter hour holding `moment`, in UTC (naive means UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = int(moment.timestamp()) // _BUCKET_SECONDS * _BUCKET_SECONDS
    return datetime.fromtimestamp(seconds, UTC)


def subjects(result: TriageResult) -> list[str]:
    """The keys a triaged post is counted under: its topics and its cues."""
    keys = {f"topic:{topic['topic']}" for topic in result.topics}
    keys.update(f"cue:{cue}" for cue in result.cues if cue != CUE)
    return sorted(keys)


def watches(rule: VolumeSpike, key: str) -> bool:
    kind, _, name = key.partition(":")
    return rule.topics if kind == "topic" else kind == "cue" and name in rule.cues


def counted(entries: Iterable[Entry]) -> list[Entry]:
    """The posts that count: a spam wave mentioning a topic is no crisis of that topic."""
    return [entry for entry in entries if entry[1].category != "spam"]


def tally(entries: Iterable[Entry]) -> Tally:
    """Posts per subject and quarter hour, and every post under ALL."""
    counts: Tally = Counter()
    for _, result, at in entries:
        bucket = bucket_of(at)
        counts[ALL, bucket] += 1
        for key in subjects(result):
            counts[key, bucket] += 1
    return counts


@dataclass(frozen=True)
class Spike:
    key: str
    bucket: datetime
    window_minutes: int
    # The subject's posts in the window that ends with `bucket`.
    posts: int
    # The subject's posts in the counted part of the baseline, and how long that was.
    usual_posts: int
    usual_minutes: int

    @property
    def evidence(self) -> str:
        """E.g. "topic delivery: 48 posts in the hour to 14:15 UTC, usually 3.2 an hour"."""
        kind, _, name = self.key.partition(":")
        end = (self.bucket + BUCKET).astimezone(UTC)
        plural = "" if self.posts == 1 else "s"
        shown = (f"{kind} {name}: {self.posts} post{plural} in the "
                 f"{_span(self.window_minutes)} to {end:%H:%M} UTC, ")
        rate = self.usual_posts * 60 / self.usual_minutes
        before = _span(self.usual_minutes if self.usual_minutes < 24 * 60
                       else self.usual_minutes // 60 * 60)
        if not self.usual_posts:
            return shown + f"none in the {before} before"
        if rate >= 0.1:
            return shown + f"usually {rate:.1f} an hour"
        return shown + f"usually {self.usual_posts} in the {before} before"


def _span(minutes: int) -> str:
    for unit, name in ((24 * 60, "day"), (60, "hour")):
        if minutes % unit == 0:
            count = minutes // unit
            return name if count == 1 else f"{count} {name}s"
    return f"{minutes} minutes"


def find_spikes(counts: Mapping[tuple[str, datetime], int],
                wanted: Iterable[tuple[str, datetime]],
                rule: VolumeSpike) -> dict[tuple[str, datetime], Spike]:
    """Which of the `wanted` (key, quarter hour) spike, given every count known: the
    window and the baseline before each must be in `counts`, and ALL for the history."""
    series: dict[str, dict[int, int]] = defaultdict(dict)
    for (key, bucket), posts in counts.items():
        number = _number(bucket)
        series[key][number] = series[key].get(number, 0) + posts
    sums = {key: (sorted(found), list(accumulate((found[n] for n in sorted(found)),
                                                  initial=0)))
            for key, found in series.items()}

    def total(key: str, start: int, stop: int) -> int:
        numbers, prefix = sums.get(key, ((), (0,)))
        return prefix[bisect_left(numbers, stop)] - prefix[bisect_left(numbers, start)]

    if ALL not in sums:
        return {}
    history_from = sums[ALL][0][0]
    window = rule.window_minutes // VOLUME_BUCKET_MINUTES
    baseline = rule.baseline_minutes // VOLUME_BUCKET_MINUTES
    warm_up = min(baseline, WARM_UP_MINUTES // VOLUME_BUCKET_MINUTES)
    found: dict[tuple[str, datetime], Spike] = {}
    for key, bucket in set(wanted):
        number = _number(bucket)
        window_start = number - window + 1
        posts = total(key, window_start, number + 1)
        if posts < rule.min_posts:
            continue
        baseline_start = max(window_start - baseline, history_from)
        covered = window_start - baseline_start
        if covered < warm_up:
            continue
        usual = total(key, baseline_start, window_start)
        # posts / window ≥ factor × usual / covered, without dividing
        if posts * covered < rule.factor * usual * window:
            continue
        found[key, bucket] = Spike(key, bucket_of(bucket), rule.window_minutes, posts, usual,
                                   covered * VOLUME_BUCKET_MINUTES)
    return found


def _number(bucket: datetime) -> int:
    return int(bucket_of(bucket).timestamp()) // _BUCKET_SECONDS


def wanted_of(entries: Iterable[Entry], rule: VolumeSpike) -> set[tuple[str, datetime]]:
    return {(key, bucket_of(at)) for _, result, at in entries for key in subjects(result)
            if watches(rule, key)}


def mark(entries: list[Entry], policy: Policy, counts: Mapping[tuple[str, datetime], int]
         ) -> int:
    """Give each post on a spiking subject the volume_spike cue and decide again under
    `policy`; `counts` must hold the posts of `entries` too. Returns the posts marked."""
    rule = policy.volume_spike
    if rule is None:
        return 0
    spikes = find_spikes(counts, wanted_of(entries, rule), rule)
    marked = 0
    for post, result, at in entries:
        bucket = bucket_of(at)
        evidence = tuple(spikes[key, bucket].evidence for key in subjects(result)
                         if (key, bucket) in spikes)
        if evidence:
            add_cue(result, post, policy, CUE, evidence)
            marked += 1
    return marked


# --------------------------------------------------------------------------
# The pipeline's part: one read before routing, one upsert at the end.
# --------------------------------------------------------------------------


def mark_spikes(entries: list[Entry], policy: Policy) -> Tally:
    """Mark the batch's posts on spiking subjects (see `mark`), reading the stored counts
    around them in one query. Returns the batch's own counts, for `do_add_counts` once
    the batch is written: counted last, the rows stay locked only for the commit."""
    rule = policy.volume_spike
    if rule is None:
        return Counter()
    entries = counted(entries)
    batch = tally(entries)
    wanted = wanted_of(entries, rule)
    if wanted:
        buckets = [bucket for _, bucket in wanted]
        reach = timedelta(minutes=rule.window_minutes + rule.baseline_minutes) - BUCKET
        counts = stored_counts({key for key, _ in wanted} | {ALL},
                               min(buckets) - reach, max(buckets))
        counts.update(batch)
        mark(entries, policy, counts)
    return batch


def stored_counts(keys: set[str], start: datetime, end: datetime) -> Tally:
    """Stored counts of `keys` for the quarter hours from `start` to `end`, inclusive."""
    rows = (VolumeCount.objects.filter(key__in=sorted(keys), bucket_start__gte=start,
                                       bucket_start__lte=end)
            .values_list("key", "bucket_start", "count"))
    return Counter({(key, bucket): count for key, bucket, count in rows})


def do_add_counts(counts: Tally) -> None:
    """Add a batch's counts with one upsert (`count = count + excluded.count`: right with
    several workers at once), and prune old rows when a quarter hour starts."""
    if not counts:
        return
    table = connection.ops.quote_name(VolumeCount._meta.db_table)
    column = {name: connection.ops.quote_name(VolumeCount._meta.get_field(name).column)
              for name in ("key", "bucket_start", "count")}
    bucket_field = VolumeCount._meta.get_field("bucket_start")
    # Rows in one order: two workers adding to the same rows take their locks in
    # the same order and cannot deadlock.
    rows = sorted(counts.items())
    started = False
    with connection.cursor() as cursor:
        for start in range(0, len(rows), UPSERT_ROWS):
            chunk = rows[start:start + UPSERT_ROWS]
            params = []
            for (key, bucket), posts in chunk:
                params += [key, bucket_field.get_db_prep_value(bucket, connection), posts]
            cursor.execute(
                f"INSERT INTO {table} ({column['key']}, {column['bucket_start']}, "
                f"{column['count']}) VALUES {', '.join(['(%s, %s, %s)'] * len(chunk))} "
                f"ON CONFLICT ({column['key']}, {column['bucket_start']}) DO UPDATE SET "
                f"{column['count']} = {table}.{column['count']} + excluded.{column['count']} "
                f"RETURNING {column['key']}, {column['bucket_start']}, {column['count']}",
                params)
            returned = cursor.fetchall()
            # A row whose count is this batch's alone is new: a quarter hour began.
            started = started or any(posts == counts[key, _utc(bucket)]
                                     for key, bucket, posts in returned)
    if started:
        do_prune_counts(max(bucket for _, bucket in counts))


def do_prune_counts(newest: datetime) -> int:
    """Delete counts older than any policy can read from the newest quarter hour counted
    (never later than now: one post dated far ahead must not empty the table)."""
    cutoff = min(newest, timezone.now()) - RETENTION
    return VolumeCount.objects.filter(bucket_start__lt=cutoff).delete()[0]


def _utc(value: datetime | str) -> datetime:
    """A bucket_start as the database returns it from raw SQL (SQLite: text, naive UTC)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
