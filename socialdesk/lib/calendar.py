"""Business calendars: the opening hours that SLA clocks count in.

A care team works some hours of some weekdays in its own time zone, and not on
its holidays. A target such as "first reply within 4 business hours" only runs
while the team is open, so the desk asks a calendar when a target falls due
(`add`), how much business time lies between two instants (`seconds_between`),
and when the team next opens (`next_open`).

Opening hours are local wall-clock times, so the real length of an opening
follows the zone's clock changes: a 01:00-03:00 window in Europe/London lasts
one hour on the night the clocks go forward and three on the night they go
back. Everything here works on aware datetimes and answers in UTC; nothing
touches Django or the database.
"""

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from numbers import Real
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
# How long `add` and `next_open` look for an opening before giving up: longer than any
# real run of holidays, short enough to fail fast on a calendar that never opens.
SEARCH_DAYS = 400

_FULL_WEEK = (((0, MINUTES_PER_DAY),),) * 7
_RANGE = re.compile(r"([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

Span = tuple[datetime, datetime]


class CalendarError(ValueError):
    """A calendar spec that cannot be used, or a calendar that never opens."""


@dataclass(frozen=True)
class Calendar:
    """Opening hours in a time zone, minus holidays.

    `hours` holds one entry per weekday, Monday first: sorted, non-overlapping
    (start_minute, end_minute) intervals of the local day, the end at most 1440.
    `holidays` are local dates closed all day. `always_open` marks a calendar
    given no hours at all (open around the clock, holidays still closed).
    """

    tz: ZoneInfo
    hours: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[date]
    always_open: bool = False
    # Open spans by local date, worked out once: the pipeline starts thousands of
    # clocks a second on the same few days.
    _days: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self):
        if not isinstance(self.tz, ZoneInfo):
            raise CalendarError(f"tz: expected a zoneinfo.ZoneInfo, got {self.tz!r}")
        # Normalise to tuples and a frozenset so that calendars hash and compare by value.
        object.__setattr__(self, "hours", _check_week(self.hours))
        object.__setattr__(self, "holidays", _check_holiday_set(self.holidays))
        object.__setattr__(self, "always_open", bool(self.always_open))
        if self.always_open and self.hours != _FULL_WEEK:
            raise CalendarError("hours: an always-open calendar must be open 00:00-24:00 every day")
        if not any(self.hours):
            raise CalendarError("hours: no open time on any day")

    # -- building and writing ------------------------------------------------------------------

    @classmethod
    def from_spec(cls, timezone: str = "UTC", hours: dict | None = None,
                  holidays: list | None = None) -> "Calendar":
        """Build a calendar from its stored form; see `spec` for the shape.

        `hours` None means open around the clock; a day missing from `hours` is closed.
        """
        tz = _parse_timezone(timezone)
        dates = _parse_holidays(holidays)
        if hours is None:
            return cls(tz, _FULL_WEEK, dates, always_open=True)
        return cls(tz, _parse_hours(hours), dates)

    @classmethod
    def always(cls) -> "Calendar":
        """Open around the clock in UTC, no holidays: business time is wall-clock time."""
        return cls(ZoneInfo("UTC"), _FULL_WEEK, frozenset(), always_open=True)

    def spec(self) -> dict:
        """The JSON-friendly form that `from_spec(**spec)` reads back to an equal calendar."""
        if self.tz.key is None:
            raise CalendarError("tz: a time zone loaded from a file has no name to store")
        hours = None
        if not self.always_open:
            hours = {day: [f"{_clock(start)}-{_clock(end)}" for start, end in ranges]
                     for day, ranges in zip(DAYS, self.hours, strict=True)}
        return {"timezone": self.tz.key, "hours": hours,
                "holidays": sorted(day.isoformat() for day in self.holidays)}

    # -- questions -----------------------------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        at = _to_utc(at, "at")
        if self._is_wall_clock:
            return True
        span = next(self._spans(at, until=at), None)
        return span is not None and span[0] <= at

    def next_open(self, at: datetime) -> datetime:
        """The first open instant at or after `at` (`at` itself when open), in UTC."""
        at = _to_utc(at, "at")
        if self._is_wall_clock:
            return at
        opens, _ = next(self._spans(at))
        return max(opens, at)

    def add(self, start: datetime, seconds: float) -> datetime:
        """The earliest instant (UTC) by which `seconds` of business time have passed since `start`.

        Counting begins at the next opening when `start` is closed. A target used up exactly
        at closing time falls due at that closing, not at the next opening. Zero seconds give
        `start` back unchanged, open or not.
        """
        start = _to_utc(start, "start")
        if isinstance(seconds, bool) or not isinstance(seconds, Real):
            raise TypeError(f"seconds must be a number, got {type(seconds).__name__}")
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
        if seconds == 0:
            return start
        try:
            remaining = timedelta(seconds=float(seconds))
        except OverflowError as exc:
            raise ValueError(f"seconds is too large: {seconds!r}") from exc
        if self._is_wall_clock:
            return start + remaining
        # Whole open spans are subtracted at once, so a month-long target walks ~30 days.
        for opens, closes in self._spans(start):
            opens = max(opens, start)
            if remaining <= closes - opens:
                return opens + remaining
            remaining -= closes - opens
        raise AssertionError("unreachable: _spans without `until` yields or raises")

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """Business seconds in [start, end); 0.0 when `end` is not after `start`."""
        start, end = _to_utc(start, "start"), _to_utc(end, "end")
        if end <= start:
            return 0.0
        if self._is_wall_clock:
            return (end - start).total_seconds()
        # Summed as timedeltas (exact microseconds) so add() can invert the result exactly.
        total = timedelta()
        for opens, closes in self._spans(start, until=end):
            if opens >= end:
                break
            total += min(closes, end) - max(opens, start)
        return total.total_seconds()

    # -- the machinery -------------------------------------------------------------------------

    @property
    def _is_wall_clock(self) -> bool:
        return self.always_open and not self.holidays

    def _spans(self, after: datetime, until: datetime | None = None) -> Iterator[Span]:
        """Open spans in UTC, in order and not overlapping, that end after `after`.

        Without `until` this goes on for ever, or raises CalendarError after SEARCH_DAYS local
        days with no opening; with it, it stops once no later span can begin before `until`.
        """
        tz = self.tz
        # Start a day early: yesterday's late opening may still be running.
        first_day = after.astimezone(tz).date()
        day = first_day - timedelta(days=1)
        # One spare day either side covers clocks that go back across midnight.
        last_day = None if until is None else until.astimezone(tz).date() + timedelta(days=1)
        pending: Span | None = None
        quiet_days = 0
        while last_day is None or day <= last_day:
            # Every span from here on starts at or after this midnight, so a pending span that
            # ends by then can no longer grow and is safe to hand out.
            if pending is not None and pending[1] <= self._instant(day, 0, closing=False):
                yield pending
                pending = None
            spans = [span for span in self._day_spans(day) if span[1] > after]
            for opens, closes in spans:
                # Intervals overlap in real time when a bound falls in an hour the clocks
                # repeat; merging keeps every instant counted once. Spans that merely touch
                # stay apart, or a round-the-clock calendar would never hand one out.
                if pending is not None and opens < pending[1]:
                    pending = (pending[0], max(pending[1], closes))
                else:
                    if pending is not None:
                        yield pending
                    pending = (opens, closes)
            quiet_days = 0 if spans else quiet_days + 1
            if last_day is None and pending is None and quiet_days >= SEARCH_DAYS:
                quiet_since = max(day - timedelta(days=quiet_days - 1), first_day)
                raise CalendarError(
                    f"no open time in the {SEARCH_DAYS} days from {quiet_since.isoformat()}: "
                    "are all the open days holidays?")
            day += timedelta(days=1)
        if pending is not None:
            yield pending

    def _day_spans(self, day: date) -> list[Span]:
        spans = self._days.get(day)
        if spans is None:
            if len(self._days) > 4096:
                self._days.clear()
            spans = self._days[day] = self._work_out_day(day)
        return spans

    def _work_out_day(self, day: date) -> list[Span]:
        if day in self.holidays:
            return []
        spans = []
        for start, end in self.hours[day.weekday()]:
            opens = self._instant(day, start, closing=False)
            closes = self._instant(day, end, closing=True)
            # An interval that lies wholly in skipped time never opens.
            if opens < closes:
                spans.append((opens, closes))
        return spans

    def _instant(self, day: date, minute: int, *, closing: bool) -> datetime:
        """The UTC instant for `minute` past local midnight of `day`, as an interval bound.

        An opening is the first instant the local clock reads at least that time; a closing
        is the last instant it reads less. So a time the clocks skip maps to the moment they
        jump, and a time they show twice opens on the first pass and closes on the second.
        """
        wall = datetime.combine(day, time()) + timedelta(minutes=minute)
        first = wall.replace(tzinfo=self.tz, fold=0)
        second = wall.replace(tzinfo=self.tz, fold=1)
        if first.utcoffset() == second.utcoffset():
            return first.astimezone(UTC)
        early, late = sorted((first.astimezone(UTC), second.astimezone(UTC)))
        if early.astimezone(self.tz).replace(tzinfo=None) != wall:
            return _offset_change(self.tz, early, late)
        if not closing:
            return early
        # On the second pass the clock counts up to `wall` unless the pass starts right on it
        # (London's 01:00 on the night the clocks go back), in which case the first pass is
        # the last time the clock read anything earlier.
        just_before = (late - timedelta(seconds=1)).astimezone(self.tz).replace(tzinfo=None)
        return late if just_before < wall else early


def _offset_change(tz: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The instant in (before, after] at which `tz` takes on the offset it has at `after`."""
    target = after.astimezone(tz).utcoffset()
    low, high = math.floor(before.timestamp()), math.ceil(after.timestamp())
    # Offsets change on whole seconds, so bisecting seconds finds the change exactly,
    # in under twenty steps even for a skipped day.
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).utcoffset() == target:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _to_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


# -- reading specs ---------------------------------------------------------------------------


def _parse_timezone(value) -> ZoneInfo:
    if not isinstance(value, str) or not value:
        raise CalendarError(
            f"timezone: expected a time zone name such as 'Europe/London', got {value!r}")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise CalendarError(f"timezone: unknown time zone {value!r}") from exc


def _parse_hours(hours) -> tuple[tuple[tuple[int, int], ...], ...]:
    if not isinstance(hours, Mapping):
        raise CalendarError(
            f"hours: expected a mapping of day to opening times, got {type(hours).__name__}")
    for key in hours:
        if key not in DAYS:
            raise CalendarError(f"hours: unknown day {key!r} (days are {', '.join(DAYS)})")
    week = []
    for day in DAYS:
        value = hours.get(day)
        if value is None:
            value = []
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise CalendarError(
                f'hours.{day}: expected a list of "HH:MM-HH:MM" strings, got {value!r}')
        ranges = sorted(_parse_range(text, f"hours.{day}[{index}]")
                        for index, text in enumerate(value))
        for (_, end, text), (start, _, next_text) in zip(ranges, ranges[1:], strict=False):
            if start < end:
                raise CalendarError(f"hours.{day}: {text!r} and {next_text!r} overlap")
        week.append(tuple((start, end) for start, end, _ in ranges))
    if not any(week):
        raise CalendarError(
            "hours: no open time on any day (leave hours out for a calendar open 24/7)")
    return tuple(week)


def _parse_range(text, where: str) -> tuple[int, int, str]:
    match = _RANGE.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise CalendarError(f'{where}: expected "HH:MM-HH:MM", got {text!r}')
    start_hour, start_minute, end_hour, end_minute = map(int, match.groups())
    for hour, minute in ((start_hour, start_minute), (end_hour, end_minute)):
        if minute > 59 or hour > 24 or (hour == 24 and minute):
            raise CalendarError(f"{where}: {text!r} is not a valid time range (00:00 to 24:00)")
    start, end = start_hour * 60 + start_minute, end_hour * 60 + end_minute
    if end <= start:
        raise CalendarError(f"{where}: {text!r} must end after it starts")
    return start, end, text


def _parse_holidays(holidays) -> frozenset[date]:
    if holidays is None:
        return frozenset()
    if isinstance(holidays, str | bytes | Mapping) or not isinstance(holidays, Iterable):
        raise CalendarError(
            f"holidays: expected a list of ISO dates such as '2026-12-25', got {holidays!r}")
    return frozenset(_parse_date(value, f"holidays[{index}]")
                     for index, value in enumerate(holidays))


def _parse_date(value, where: str) -> date:
    if type(value) is date:
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise CalendarError(f"{where}: {value!r} is not a date in the form YYYY-MM-DD")


# -- checking a directly built calendar ------------------------------------------------------


def _check_week(hours) -> tuple[tuple[tuple[int, int], ...], ...]:
    try:
        days = [tuple(tuple(interval) for interval in ranges) for ranges in hours]
    except TypeError as exc:
        raise CalendarError("hours: expected 7 tuples of (start_minute, end_minute)") from exc
    if len(days) != 7:
        raise CalendarError(f"hours: expected 7 days (Monday first), got {len(days)}")
    for index, ranges in enumerate(days):
        previous_end = 0
        for interval in ranges:
            valid = (len(interval) == 2
                     and all(isinstance(n, int) and not isinstance(n, bool) for n in interval)
                     and previous_end <= interval[0] < interval[1] <= MINUTES_PER_DAY)
            if not valid:
                raise CalendarError(
                    f"hours[{index}]: {interval!r} is not a sorted, non-overlapping "
                    f"(start_minute, end_minute) interval within 0..{MINUTES_PER_DAY}")
            previous_end = interval[1]
    return tuple(days)


def _check_holiday_set(holidays) -> frozenset[date]:
    try:
        dates = frozenset(holidays)
    except TypeError as exc:
        raise CalendarError("holidays: expected a set of dates") from exc
    for day in dates:
        if type(day) is not date:
            raise CalendarError(f"holidays: {day!r} is not a date")
    return dates
