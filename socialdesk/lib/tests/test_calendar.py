import json
import re
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialdesk.lib.calendar import DAYS, SEARCH_DAYS, Calendar, CalendarError

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600

WEEKDAYS_9_TO_5 = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
OFFICE = Calendar.from_spec("UTC", WEEKDAYS_9_TO_5)
LONDON_OFFICE = Calendar.from_spec("Europe/London", WEEKDAYS_9_TO_5)
NEW_YORK_OFFICE = Calendar.from_spec("America/New_York", WEEKDAYS_9_TO_5)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def at(tz: ZoneInfo, *args, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=tz, fold=fold)


# -- add: the basics -------------------------------------------------------------------------


def test_a_target_inside_one_day_falls_due_the_same_day():
    assert OFFICE.add(utc(2026, 11, 16, 10), 2 * HOUR) == utc(2026, 11, 16, 12)


def test_a_target_started_friday_afternoon_runs_over_the_weekend():
    # Friday 16:00 + 2 business hours: one hour on Friday, one on Monday morning.
    assert OFFICE.add(utc(2026, 11, 20, 16), 2 * HOUR) == utc(2026, 11, 23, 10)


def test_a_target_used_up_at_closing_time_falls_due_at_closing_not_next_opening():
    assert OFFICE.add(utc(2026, 11, 16, 9), 8 * HOUR) == utc(2026, 11, 16, 17)
    assert OFFICE.add(utc(2026, 11, 16, 9), 8 * HOUR + 1) == utc(2026, 11, 17, 9, 0, 1)


def test_a_friday_holiday_pushes_the_target_over_the_long_weekend():
    calendar = Calendar.from_spec("UTC", WEEKDAYS_9_TO_5, holidays=["2026-11-20"])
    assert calendar.add(utc(2026, 11, 19, 16), 2 * HOUR) == utc(2026, 11, 23, 10)


def test_a_holiday_is_a_local_date_not_a_utc_date():
    # 2026-12-25 in Tokyo runs from 24 Dec 15:00 UTC; a 24/7 calendar is shut for all of it.
    calendar = Calendar.from_spec("Asia/Tokyo", holidays=["2026-12-25"])
    assert not calendar.is_open(utc(2026, 12, 24, 15))
    assert calendar.is_open(utc(2026, 12, 24, 14, 59))
    assert calendar.next_open(utc(2026, 12, 24, 20)) == utc(2026, 12, 25, 15)


def test_a_start_outside_hours_counts_from_the_next_opening():
    assert OFFICE.add(utc(2026, 11, 21, 10), HOUR) == utc(2026, 11, 23, 10)  # Saturday
    assert OFFICE.add(utc(2026, 11, 16, 7), 30 * 60) == utc(2026, 11, 16, 9, 30)  # early
    assert OFFICE.add(utc(2026, 11, 16, 17), 1) == utc(2026, 11, 17, 9, 0, 1)  # at closing


def test_split_hours_skip_the_lunch_break():
    calendar = Calendar.from_spec("UTC", {"mon": ["13:00-17:30", "09:00-12:00"]})
    assert calendar.add(utc(2026, 11, 16, 11), 2 * HOUR) == utc(2026, 11, 16, 14)
    assert calendar.seconds_between(utc(2026, 11, 16, 9), utc(2026, 11, 16, 18)) == 7.5 * HOUR


def test_zero_seconds_returns_the_start_unchanged_even_when_closed():
    saturday = utc(2026, 11, 21, 10)
    assert OFFICE.add(saturday, 0) == saturday
    assert OFFICE.add(saturday, 0.0) == saturday


@pytest.mark.parametrize("seconds", [-1, -0.5, float("nan"), float("inf")])
def test_negative_or_non_finite_seconds_are_rejected(seconds):
    with pytest.raises(ValueError, match="seconds must be a finite number >= 0"):
        OFFICE.add(utc(2026, 11, 16, 10), seconds)


def test_seconds_must_be_a_number():
    with pytest.raises(TypeError, match="seconds must be a number"):
        OFFICE.add(utc(2026, 11, 16, 10), "60")


def test_fractional_seconds_are_kept_to_the_microsecond():
    assert OFFICE.add(utc(2026, 11, 16, 10), 1.25) == utc(2026, 11, 16, 10, 0, 1, 250000)


def test_results_are_in_utc_whatever_zone_the_input_uses():
    plus_five = timezone(timedelta(hours=5))
    due = OFFICE.add(datetime(2026, 11, 16, 15, tzinfo=plus_five), HOUR)  # 10:00 UTC
    assert due == utc(2026, 11, 16, 11)
    assert due.tzinfo is UTC
    assert OFFICE.next_open(datetime(2026, 11, 21, tzinfo=plus_five)).tzinfo is UTC
    assert OFFICE.add(datetime(2026, 11, 16, 15, tzinfo=plus_five), 0).tzinfo is UTC


@pytest.mark.parametrize("call", [
    lambda: OFFICE.add(datetime(2026, 11, 16, 10), 60),
    lambda: OFFICE.seconds_between(datetime(2026, 11, 16, 10), utc(2026, 11, 16, 11)),
    lambda: OFFICE.seconds_between(utc(2026, 11, 16, 10), datetime(2026, 11, 16, 11)),
    lambda: OFFICE.is_open(datetime(2026, 11, 16, 10)),
    lambda: OFFICE.next_open(datetime(2026, 11, 16, 10)),
    lambda: Calendar.always().add(datetime(2026, 11, 16, 10), 60),
])
def test_naive_datetimes_are_rejected(call):
    with pytest.raises(ValueError, match="must be timezone-aware"):
        call()


def test_a_long_target_walks_day_by_day_not_minute_by_minute(monkeypatch):
    days_looked_at = []
    day_spans = Calendar._day_spans

    def counting(self, day):
        days_looked_at.append(day)
        return day_spans(self, day)

    monkeypatch.setattr(Calendar, "_day_spans", counting)
    # 30 business days of 8 hours from Monday 2026-11-16 09:00 end on Friday 2026-12-25 17:00.
    assert OFFICE.add(utc(2026, 11, 16, 9), 30 * 8 * HOUR) == utc(2026, 12, 25, 17)
    assert len(days_looked_at) < 50


def test_a_calendar_whose_open_days_are_all_holidays_fails_with_a_clear_error():
    mondays = [date(2026, 1, 5) + timedelta(weeks=n) for n in range(200)]
    calendar = Calendar.from_spec("UTC", {"mon": ["09:00-17:00"]},
                                  holidays=[day.isoformat() for day in mondays])
    message = f"no open time in the {SEARCH_DAYS} days from 2026-01-01"
    with pytest.raises(CalendarError, match=message):
        calendar.add(utc(2026, 1, 1), HOUR)
    with pytest.raises(CalendarError, match=message):
        calendar.next_open(utc(2026, 1, 1))
    # Questions bounded by an end instant do not need an opening to exist.
    assert calendar.seconds_between(utc(2026, 1, 1), utc(2028, 1, 1)) == 0
    assert not calendar.is_open(utc(2026, 1, 5, 10))


def test_a_target_running_into_a_long_closure_still_finds_the_opening_after_it():
    # 300 closed weekdays in a row: long, but short of the give-up horizon.
    closed = [date(2026, 1, 1) + timedelta(days=n) for n in range(300)]
    calendar = Calendar.from_spec("UTC", WEEKDAYS_9_TO_5,
                                  holidays=[day.isoformat() for day in closed])
    assert calendar.add(utc(2025, 12, 31, 16), 2 * HOUR) == utc(2026, 10, 28, 10)


# -- seconds_between ---------------------------------------------------------------------------


def test_business_seconds_over_a_weekend_count_only_open_hours():
    assert OFFICE.seconds_between(utc(2026, 11, 20, 16), utc(2026, 11, 23, 10)) == 2 * HOUR


def test_business_seconds_over_a_holiday_leave_the_holiday_out():
    calendar = Calendar.from_spec("UTC", WEEKDAYS_9_TO_5, holidays=["2026-11-20"])
    assert calendar.seconds_between(utc(2026, 11, 19, 9), utc(2026, 11, 24, 9)) == 16 * HOUR


def test_business_seconds_are_zero_when_end_is_not_after_start():
    assert OFFICE.seconds_between(utc(2026, 11, 16, 12), utc(2026, 11, 16, 12)) == 0
    assert OFFICE.seconds_between(utc(2026, 11, 16, 12), utc(2026, 11, 16, 10)) == 0


def test_business_seconds_over_a_year_of_weekdays():
    # 2027 has 261 weekdays.
    assert OFFICE.seconds_between(utc(2027, 1, 1), utc(2028, 1, 1)) == 261 * 8 * HOUR


# -- is_open and next_open ---------------------------------------------------------------------


def test_is_open_includes_the_opening_minute_and_excludes_the_closing_one():
    assert OFFICE.is_open(utc(2026, 11, 16, 9))
    assert OFFICE.is_open(utc(2026, 11, 16, 16, 59, 59, 999999))
    assert not OFFICE.is_open(utc(2026, 11, 16, 17))
    assert not OFFICE.is_open(utc(2026, 11, 16, 8, 59, 59))


def test_is_open_is_false_at_weekends_on_holidays_and_over_lunch():
    calendar = Calendar.from_spec("UTC", {"mon": ["09:00-12:00", "13:00-17:00"],
                                          "tue": ["09:00-17:00"]}, holidays=["2026-11-17"])
    assert not calendar.is_open(utc(2026, 11, 16, 12, 30))
    assert not calendar.is_open(utc(2026, 11, 17, 10))
    assert not calendar.is_open(utc(2026, 11, 22, 10))
    assert calendar.is_open(utc(2026, 11, 16, 13))


def test_is_open_reads_hours_in_the_calendars_own_zone():
    # 09:00 in New York is 14:00 UTC in winter and 13:00 UTC in summer.
    assert NEW_YORK_OFFICE.is_open(utc(2026, 11, 16, 14))
    assert not NEW_YORK_OFFICE.is_open(utc(2026, 11, 16, 13, 30))
    assert NEW_YORK_OFFICE.is_open(utc(2026, 6, 15, 13, 30))
    assert NEW_YORK_OFFICE.is_open(at(NEW_YORK, 2026, 6, 15, 9))


def test_next_open_is_the_instant_itself_when_open():
    assert OFFICE.next_open(utc(2026, 11, 16, 12, 34, 56)) == utc(2026, 11, 16, 12, 34, 56)


def test_next_open_finds_the_next_morning_monday_or_day_after_a_holiday():
    assert OFFICE.next_open(utc(2026, 11, 16, 17)) == utc(2026, 11, 17, 9)
    assert OFFICE.next_open(utc(2026, 11, 20, 18)) == utc(2026, 11, 23, 9)
    assert OFFICE.next_open(utc(2026, 11, 16, 3)) == utc(2026, 11, 16, 9)
    calendar = Calendar.from_spec("UTC", WEEKDAYS_9_TO_5, holidays=["2026-12-25"])
    assert calendar.next_open(utc(2026, 12, 24, 17)) == utc(2026, 12, 28, 9)


# -- clock changes -----------------------------------------------------------------------------


def test_london_opens_at_nine_local_on_the_monday_after_the_clocks_go_forward():
    # Clocks go forward on Sunday 2026-03-29: 09:00 on Monday is 08:00 UTC, not 09:00.
    assert LONDON_OFFICE.next_open(utc(2026, 3, 28, 12)) == utc(2026, 3, 30, 8)
    assert LONDON_OFFICE.add(utc(2026, 3, 27, 16), 2 * HOUR) == utc(2026, 3, 30, 9)


def test_london_opens_at_nine_local_on_the_monday_after_the_clocks_go_back():
    # Clocks go back on Sunday 2026-10-25: Friday's 16:00 is 15:00 UTC, Monday's 09:00 is 09:00.
    start = at(LONDON, 2026, 10, 23, 16)
    assert LONDON_OFFICE.add(start, 2 * HOUR) == utc(2026, 10, 26, 10)
    assert LONDON_OFFICE.seconds_between(start, utc(2026, 10, 26, 10)) == 2 * HOUR


def test_new_york_targets_cross_both_clock_changes():
    # Forward on Sunday 2026-03-08, back on Sunday 2026-11-01.
    assert NEW_YORK_OFFICE.add(at(NEW_YORK, 2026, 3, 6, 16), 2 * HOUR) == utc(2026, 3, 9, 14)
    assert NEW_YORK_OFFICE.add(at(NEW_YORK, 2026, 10, 30, 16), 2 * HOUR) == utc(2026, 11, 2, 15)
    assert NEW_YORK_OFFICE.next_open(utc(2026, 3, 7)) == utc(2026, 3, 9, 13)
    assert NEW_YORK_OFFICE.next_open(utc(2026, 10, 31)) == utc(2026, 11, 2, 14)


@pytest.mark.parametrize(("zone", "sunday", "hours"), [
    ("Europe/London", date(2026, 3, 22), 24),
    ("Europe/London", date(2026, 3, 29), 23),
    ("Europe/London", date(2026, 10, 25), 25),
    ("America/New_York", date(2026, 3, 8), 23),
    ("America/New_York", date(2026, 11, 1), 25),
])
def test_a_whole_day_lasts_as_long_as_the_local_clock_says(zone, sunday, hours):
    calendar = Calendar.from_spec(zone, {"sun": ["00:00-24:00"]})
    week = utc(*(sunday - timedelta(days=3)).timetuple()[:3])
    assert calendar.seconds_between(week, week + timedelta(days=7)) == hours * HOUR


@pytest.mark.parametrize(("zone", "window", "sunday", "hours"), [
    # London skips 01:00-02:00 in spring and repeats it in autumn.
    ("Europe/London", "01:00-03:00", date(2026, 3, 22), 2),
    ("Europe/London", "01:00-03:00", date(2026, 3, 29), 1),
    ("Europe/London", "01:00-03:00", date(2026, 10, 25), 3),
    # New York skips 02:00-03:00 in spring and repeats 01:00-02:00 in autumn.
    ("America/New_York", "01:00-04:00", date(2026, 3, 8), 2),
    ("America/New_York", "01:00-04:00", date(2026, 11, 1), 4),
    ("America/New_York", "02:00-03:00", date(2026, 3, 8), 0),
])
def test_a_night_window_over_a_clock_change_lasts_its_real_length(zone, window, sunday, hours):
    calendar = Calendar.from_spec(zone, {"sun": [window], "mon": ["09:00-10:00"]})
    day = utc(*sunday.timetuple()[:3])
    assert calendar.seconds_between(day - timedelta(hours=12), day + timedelta(hours=18)) == (
        hours * HOUR)


def test_a_window_starting_in_the_skipped_hour_opens_when_the_clocks_jump():
    calendar = Calendar.from_spec("Europe/London", {"sun": ["01:30-03:00"]})
    # 01:00 GMT becomes 02:00 BST at 01:00 UTC; 01:30 never shows on the clock.
    assert calendar.next_open(utc(2026, 3, 29, 0, 30)) == utc(2026, 3, 29, 1)
    assert not calendar.is_open(utc(2026, 3, 29, 0, 59))
    assert calendar.add(utc(2026, 3, 29), 30 * 60) == utc(2026, 3, 29, 1, 30)


def test_the_repeated_hour_opens_on_its_first_pass():
    # 01:30 shows twice on 2026-11-01 in New York: at 05:30 UTC (EDT) and 06:30 UTC (EST).
    calendar = Calendar.from_spec("America/New_York", {"sun": ["01:30-03:00"]})
    assert calendar.next_open(utc(2026, 11, 1)) == utc(2026, 11, 1, 5, 30)
    # 01:15 on the second pass is before 01:30 on the clock, but the window is already open.
    second_pass = at(NEW_YORK, 2026, 11, 1, 1, 15, fold=1)
    assert calendar.is_open(second_pass)
    assert calendar.next_open(second_pass) == utc(2026, 11, 1, 6, 15)
    assert calendar.seconds_between(utc(2026, 11, 1), utc(2026, 11, 2)) == 2.5 * HOUR


def test_a_window_ending_where_the_clock_falls_back_to_closes_on_the_first_pass():
    # 01:00 in London on 2026-10-25 is where the clock goes back to; the clock reads
    # before 01:00 only until 00:00 UTC, so 00:00-01:00 lasts one hour, not two.
    calendar = Calendar.from_spec("Europe/London", {"sun": ["00:00-01:00"]})
    assert calendar.seconds_between(utc(2026, 10, 24), utc(2026, 10, 26)) == HOUR
    assert not calendar.is_open(utc(2026, 10, 25, 0, 30))


def test_clocks_going_back_at_midnight_do_not_count_any_hour_twice():
    # Santiago goes back from 24:00 to 23:00 on Saturday 2026-04-04.
    calendar = Calendar.from_spec("America/Santiago", {day: ["00:00-24:00"] for day in DAYS})
    start, end = utc(2026, 4, 3), utc(2026, 4, 7)
    assert calendar.seconds_between(start, end) == (end - start).total_seconds()


def test_a_day_the_zone_skipped_entirely_is_no_business_time():
    # Samoa skipped 2011-12-30; a round-the-clock team lost the whole day and no more.
    calendar = Calendar.from_spec("Pacific/Apia", {day: ["00:00-24:00"] for day in DAYS})
    start, end = utc(2011, 12, 28), utc(2012, 1, 2)
    assert calendar.seconds_between(start, end) == (end - start).total_seconds()
    assert calendar.add(start, 3 * 24 * HOUR) == start + timedelta(days=3)


@pytest.mark.parametrize(("calendar", "sunday"), [
    (LONDON_OFFICE, date(2026, 3, 29)),
    (LONDON_OFFICE, date(2026, 10, 25)),
    (NEW_YORK_OFFICE, date(2026, 3, 8)),
    (NEW_YORK_OFFICE, date(2026, 11, 1)),
])
@pytest.mark.parametrize("night", [["00:00-01:00", "01:00-03:00"], ["00:00-24:00"],
                                   ["03:00-04:00", "22:00-24:00"]])
def test_open_time_matches_a_quarter_hourly_reading_of_the_local_clock(calendar, sunday, night):
    # An independent check: read the local clock every 15 minutes through a week around a
    # clock change and compare with is_open and seconds_between (windows here do not start
    # or end inside a repeated hour, where the calendar deliberately stays open throughout).
    spec = calendar.spec()
    spec["hours"] |= {"sat": ["22:00-24:00"], "sun": night}
    calendar = Calendar.from_spec(**spec)
    intervals = calendar.hours
    start = utc(*(sunday - timedelta(days=3)).timetuple()[:3])
    open_quarters = 0
    for quarter in range(7 * 24 * 4):
        instant = start + timedelta(minutes=15 * quarter)
        local = instant.astimezone(calendar.tz)
        minute = local.hour * 60 + local.minute
        expected = any(s <= minute < e for s, e in intervals[local.weekday()])
        assert calendar.is_open(instant) == expected, instant
        open_quarters += expected
    end = start + timedelta(days=7)
    assert calendar.seconds_between(start, end) == open_quarters * 15 * 60


# -- round-the-clock calendars -----------------------------------------------------------------


def test_an_always_open_calendar_runs_on_the_wall_clock():
    calendar = Calendar.always()
    start = utc(2026, 11, 21, 23, 30)
    assert calendar.add(start, 36 * HOUR + 0.5) == start + timedelta(hours=36, seconds=0.5)
    assert calendar.seconds_between(start, start + timedelta(days=40)) == 40 * 24 * HOUR
    assert calendar.is_open(start)
    assert calendar.next_open(start) == start
    assert Calendar.from_spec() == calendar


def test_an_always_open_calendar_in_a_dst_zone_still_counts_real_time():
    calendar = Calendar.from_spec("America/New_York")
    start = at(NEW_YORK, 2026, 10, 31, 12)
    assert calendar.add(start, 24 * HOUR) == at(NEW_YORK, 2026, 11, 1, 11)
    hours_calendar = Calendar.from_spec("America/New_York", {day: ["00:00-24:00"] for day in DAYS})
    assert hours_calendar.add(start, 24 * HOUR) == at(NEW_YORK, 2026, 11, 1, 11)
    assert not hours_calendar.always_open


def test_an_always_open_calendar_still_closes_on_its_holidays():
    calendar = Calendar.from_spec("Europe/London", holidays=["2026-12-25"])
    assert calendar.always_open
    assert calendar.seconds_between(utc(2026, 12, 24, 12), utc(2026, 12, 26, 12)) == 24 * HOUR
    assert calendar.next_open(utc(2026, 12, 25, 8)) == utc(2026, 12, 26)
    assert calendar.add(utc(2026, 12, 24, 23), 2 * HOUR) == utc(2026, 12, 26, 1)


# -- specs ---------------------------------------------------------------------------------------


def test_spec_writes_every_day_and_sorted_holidays():
    calendar = Calendar.from_spec(
        "Europe/London",
        {"tue": ["13:00-17:30", "09:00-12:00"], "sun": ["00:00-24:00"]},
        holidays=["2026-12-26", "2026-12-25", "2026-12-25"])
    assert calendar.spec() == {
        "timezone": "Europe/London",
        "hours": {"mon": [], "tue": ["09:00-12:00", "13:00-17:30"], "wed": [], "thu": [],
                  "fri": [], "sat": [], "sun": ["00:00-24:00"]},
        "holidays": ["2026-12-25", "2026-12-26"],
    }
    assert calendar.hours[1] == ((540, 720), (780, 1050))
    assert calendar.hours[6] == ((0, 1440),)


@pytest.mark.parametrize("calendar", [
    Calendar.always(),
    OFFICE,
    NEW_YORK_OFFICE,
    Calendar.from_spec("Asia/Kolkata", {"sat": ["10:00-14:00"]}, holidays=["2027-01-26"]),
    Calendar.from_spec("Europe/London", holidays=["2026-12-25"]),
    Calendar.from_spec("Australia/Lord_Howe", {day: ["00:00-24:00"] for day in DAYS}),
])
def test_spec_round_trips_through_json_and_from_spec(calendar):
    spec = json.loads(json.dumps(calendar.spec()))
    assert Calendar.from_spec(**spec) == calendar
    assert hash(Calendar.from_spec(**spec)) == hash(calendar)


def test_always_spec_has_no_hours():
    assert Calendar.always().spec() == {"timezone": "UTC", "hours": None, "holidays": []}


def test_spec_accepts_date_objects_none_for_a_closed_day_and_touching_intervals():
    calendar = Calendar.from_spec("UTC", {"mon": ["09:00-12:00", "12:00-17:00"], "tue": None},
                                  holidays=[date(2026, 12, 25)])
    assert calendar.holidays == {date(2026, 12, 25)}
    assert calendar.add(utc(2026, 11, 16, 11), 2 * HOUR) == utc(2026, 11, 16, 13)


# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("spec", "message"), [
    ({"timezone": "Mars/Olympus_Mons"}, "timezone: unknown time zone 'Mars/Olympus_Mons'"),
    ({"timezone": "../etc/passwd"}, "timezone: unknown time zone '../etc/passwd'"),
    ({"timezone": ""}, "timezone: expected a time zone name such as 'Europe/London', got ''"),
    ({"timezone": None}, "timezone: expected a time zone name"),
    ({"hours": ["09:00-17:00"]}, "hours: expected a mapping of day to opening times, got list"),
    ({"hours": {"monday": ["09:00-17:00"]}},
     "hours: unknown day 'monday' (days are mon, tue, wed, thu, fri, sat, sun)"),
    ({"hours": {"Mon": ["09:00-17:00"]}}, "hours: unknown day 'Mon'"),
    ({"hours": {"mon": "09:00-17:00"}},
     'hours.mon: expected a list of "HH:MM-HH:MM" strings, got \'09:00-17:00\''),
    ({"hours": {"mon": ["9-17"]}}, 'hours.mon[0]: expected "HH:MM-HH:MM", got \'9-17\''),
    ({"hours": {"mon": ["09:00 to 17:00"]}}, 'hours.mon[0]: expected "HH:MM-HH:MM"'),
    ({"hours": {"mon": [900]}}, 'hours.mon[0]: expected "HH:MM-HH:MM", got 900'),
    ({"hours": {"fri": ["09:00-12:00", "25:00-26:00"]}},
     "hours.fri[1]: '25:00-26:00' is not a valid time range (00:00 to 24:00)"),
    ({"hours": {"fri": ["09:60-10:00"]}}, "hours.fri[0]: '09:60-10:00' is not a valid time"),
    ({"hours": {"fri": ["09:00-24:30"]}}, "hours.fri[0]: '09:00-24:30' is not a valid time"),
    ({"hours": {"tue": ["17:00-09:00"]}}, "hours.tue[0]: '17:00-09:00' must end after it starts"),
    ({"hours": {"tue": ["09:00-09:00"]}}, "hours.tue[0]: '09:00-09:00' must end after it starts"),
    ({"hours": {"tue": ["24:00-24:00"]}}, "hours.tue[0]: '24:00-24:00' must end after it starts"),
    ({"hours": {"wed": ["11:00-13:00", "09:00-12:00"]}},
     "hours.wed: '09:00-12:00' and '11:00-13:00' overlap"),
    ({"hours": {"wed": ["09:00-17:00", "09:00-10:00"]}}, "hours.wed: '09:00-10:00' and"),
    ({"hours": {}}, "hours: no open time on any day (leave hours out for a calendar open 24/7)"),
    ({"hours": {"sat": [], "sun": []}}, "hours: no open time on any day"),
    ({"holidays": "2026-12-25"},
     "holidays: expected a list of ISO dates such as '2026-12-25', got '2026-12-25'"),
    ({"holidays": ["2026-12-25", "2026-02-30"]},
     "holidays[1]: '2026-02-30' is not a date in the form YYYY-MM-DD"),
    ({"holidays": ["25/12/2026"]}, "holidays[0]: '25/12/2026' is not a date in the form"),
    ({"holidays": ["20261225"]}, "holidays[0]: '20261225' is not a date in the form"),
    ({"holidays": [datetime(2026, 12, 25)]}, "holidays[0]: datetime.datetime(2026, 12, 25, 0, 0)"),
])
def test_a_bad_spec_is_rejected_with_a_message_naming_the_field(spec, message):
    with pytest.raises(CalendarError, match=re.escape(message)):
        Calendar.from_spec(**spec)


def test_calendar_error_is_a_value_error():
    assert issubclass(CalendarError, ValueError)


@pytest.mark.parametrize(("fields", "message"), [
    ({"tz": "UTC"}, "tz: expected a zoneinfo.ZoneInfo"),
    ({"hours": ((),) * 7}, "hours: no open time on any day"),
    ({"hours": ((540, 1020),) * 7}, "hours: expected 7 tuples"),
    ({"hours": (((540, 1020),),) * 6}, "hours: expected 7 days (Monday first), got 6"),
    ({"hours": (((540, 1020), (600, 700)),) + ((),) * 6}, "hours[0]: (600, 700) is not a sorted"),
    ({"hours": ((), ((0, 1441),)) + ((),) * 5}, "hours[1]: (0, 1441) is not a sorted"),
    ({"hours": (((60, 60),),) + ((),) * 6}, "hours[0]: (60, 60)"),
    ({"holidays": frozenset({"2026-12-25"})}, "holidays: '2026-12-25' is not a date"),
    ({"always_open": True}, "hours: an always-open calendar must be open 00:00-24:00"),
])
def test_a_directly_built_calendar_is_checked_too(fields, message):
    values = {"tz": ZoneInfo("UTC"), "hours": (((540, 1020),),) + ((),) * 6,
              "holidays": frozenset()} | fields
    with pytest.raises(CalendarError, match=re.escape(message)):
        Calendar(**values)


def test_a_directly_built_calendar_is_normalised_to_hashable_values():
    calendar = Calendar(ZoneInfo("UTC"), [[[540, 1020]]] + [[]] * 6, {date(2026, 12, 25)})
    assert calendar == Calendar.from_spec("UTC", {"mon": ["09:00-17:00"]},
                                          holidays=["2026-12-25"])
    assert hash(calendar)


# -- properties ----------------------------------------------------------------------------------

PROPERTY_CALENDARS = [
    OFFICE,
    Calendar.from_spec("Europe/London",
                       {"mon": ["09:00-12:00", "13:00-17:30"], "tue": ["09:00-17:00"],
                        "thu": ["00:00-24:00"], "sat": ["10:00-14:00"],
                        "sun": ["00:30-01:30", "01:30-03:00", "22:00-24:00"]},
                       holidays=["2026-03-30", "2026-10-29", "2026-12-25"]),
    Calendar.from_spec("America/New_York",
                       {"fri": ["08:00-20:00"], "sat": ["23:00-24:00"], "sun": ["01:00-04:00"]}),
    Calendar.from_spec("America/Santiago", {day: ["00:00-24:00"] for day in DAYS},
                       holidays=["2026-04-05"]),
    Calendar.from_spec("Europe/London", holidays=["2026-03-29"]),
]

# Minute-aligned instants around 2026's clock changes, so that draws land on bounds and on
# the clock changes themselves as well as between them.
instants = st.integers(min_value=0, max_value=366 * 24 * 60).map(
    lambda minute: utc(2026, 1, 1) + timedelta(minutes=minute))
spans = st.integers(min_value=0, max_value=21 * 24 * 60 * 60)
calendars = st.sampled_from(PROPERTY_CALENDARS)
property_settings = settings(max_examples=150, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow])


@property_settings
@given(calendar=calendars, start=instants, seconds=spans)
def test_add_then_seconds_between_gives_the_seconds_back(calendar, start, seconds):
    due = calendar.add(start, seconds)
    assert due >= start
    assert calendar.seconds_between(start, due) == seconds
    if seconds:
        # The target is met no later than needed: an instant earlier, it was not yet met.
        assert calendar.seconds_between(start, due - timedelta(microseconds=1)) < seconds


@property_settings
@given(calendar=calendars, start=instants, length=spans)
def test_seconds_between_then_add_lands_on_the_end_up_to_closed_time(calendar, start, length):
    end = start + timedelta(seconds=length)
    due = calendar.add(start, calendar.seconds_between(start, end))
    assert due <= end
    # Only closed time lies between the due instant and the end.
    assert calendar.next_open(due) == calendar.next_open(end)
    if calendar.is_open(end) and calendar.is_open(due):
        assert due == end


@property_settings
@given(calendar=calendars, first=instants, second=instants, third=instants)
def test_business_seconds_add_up_over_consecutive_ranges(calendar, first, second, third):
    a, b, c = sorted((first, second, third))
    assert calendar.seconds_between(a, c) == pytest.approx(
        calendar.seconds_between(a, b) + calendar.seconds_between(b, c), abs=1e-6)
    assert calendar.seconds_between(a, c) <= (c - a).total_seconds()


@property_settings
@given(calendar=calendars, instant=instants)
def test_next_open_is_open_and_nothing_before_it_is(calendar, instant):
    opening = calendar.next_open(instant)
    assert calendar.is_open(opening)
    assert calendar.is_open(instant) == (opening == instant)
    assert calendar.seconds_between(instant, opening) == 0
