from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clameur.inbox.calendar import BusinessCalendar

PARIS = ZoneInfo("Europe/Paris")
OFFICE = BusinessCalendar()


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time in Paris, as the UTC datetime the calendar takes and gives."""
    return datetime(year, month, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


def test_a_complaint_on_friday_evening_is_due_on_monday_morning():
    # Friday 9 July 2027, 17:30 in Paris: half an hour left on Friday, half an hour on Monday.
    due = OFFICE.add_business_time(paris(2027, 7, 9, 17, 30), timedelta(hours=1))
    assert due == paris(2027, 7, 12, 9, 30)
    assert due.tzinfo is UTC


def test_a_target_that_ends_at_closing_time_is_due_at_closing_time():
    due = OFFICE.add_business_time(paris(2027, 7, 5, 9), timedelta(hours=45))
    assert due == paris(2027, 7, 9, 18)


def test_a_message_received_at_night_starts_counting_at_opening():
    due = OFFICE.add_business_time(paris(2027, 7, 6, 2), timedelta(minutes=20))
    assert due == paris(2027, 7, 6, 9, 20)


def test_bastille_day_is_closed_and_its_targets_roll_over_to_the_next_open_day():
    assert not OFFICE.is_open(paris(2027, 7, 14, 10))
    due = OFFICE.add_business_time(paris(2027, 7, 13, 17, 30), timedelta(hours=1))
    assert due == paris(2027, 7, 15, 9, 30)


def test_easter_monday_2027_is_computed_and_closed_across_the_clock_change():
    # Easter 2027 is on 28 March, the night the clocks go forward: Friday 26 is in winter time,
    # Tuesday 30 in summer time, Monday 29 is a public holiday.
    assert not OFFICE.is_open(paris(2027, 3, 29, 10))
    due = OFFICE.add_business_time(paris(2027, 3, 26, 17, 30), timedelta(hours=1))
    assert due == paris(2027, 3, 30, 9, 30)
    assert due == datetime(2027, 3, 30, 7, 30, tzinfo=UTC)


def test_alsace_moselle_also_closes_on_good_friday():
    good_friday = paris(2027, 3, 26, 10)
    assert OFFICE.is_open(good_friday)
    assert not BusinessCalendar(holidays_subdivision="57").is_open(good_friday)


def test_without_a_holidays_country_public_holidays_are_working_days():
    assert BusinessCalendar(holidays_country=None).is_open(paris(2027, 7, 14, 10))


def test_extra_closed_dates_are_closed():
    calendar = BusinessCalendar(closed_dates=frozenset({date(2027, 12, 24)}))
    assert not calendar.is_open(paris(2027, 12, 24, 10))
    assert calendar.next_open(paris(2027, 12, 24, 10)) == paris(2027, 12, 27, 9)


def test_next_open_is_the_moment_itself_when_open():
    assert OFFICE.next_open(paris(2027, 7, 6, 11)) == paris(2027, 7, 6, 11)
    assert OFFICE.next_open(paris(2027, 7, 6, 18)) == paris(2027, 7, 7, 9)


def test_closing_time_is_not_open_and_opening_time_is():
    assert OFFICE.is_open(paris(2027, 7, 6, 9))
    assert not OFFICE.is_open(paris(2027, 7, 6, 18))


def test_business_time_counts_only_opening_hours():
    used = OFFICE.business_time_between(paris(2027, 7, 9, 17), paris(2027, 7, 12, 10))
    assert used == timedelta(hours=2)


def test_business_time_is_zero_when_the_end_is_not_after_the_start():
    moment = paris(2027, 7, 6, 10)
    assert OFFICE.business_time_between(moment, moment) == timedelta(0)
    assert OFFICE.business_time_between(moment, moment - timedelta(hours=1)) == timedelta(0)


def test_split_hours_skip_the_lunch_break():
    calendar = BusinessCalendar.from_settings(
        {"hours": {day: ["09:00-12:30", "13:30-18:00"] for day in ("monday", "tuesday")}}
    )
    due = calendar.add_business_time(paris(2027, 7, 5, 12), timedelta(hours=1))
    assert due == paris(2027, 7, 5, 14)


def test_the_spring_forward_day_of_a_24_7_calendar_lasts_23_hours():
    calendar = BusinessCalendar.always_open("Europe/Paris")
    day = calendar.business_time_between(paris(2027, 3, 28), paris(2027, 3, 29))
    assert day == timedelta(hours=23)
    # A 24-hour target set at midnight ends at 01:00 the next day, local time.
    assert calendar.add_business_time(paris(2027, 3, 28), timedelta(hours=24)) == paris(
        2027, 3, 29, 1
    )


def test_the_fall_back_day_of_a_24_7_calendar_lasts_25_hours():
    calendar = BusinessCalendar.always_open("Europe/Paris")
    day = calendar.business_time_between(paris(2027, 10, 31), paris(2027, 11, 1))
    assert day == timedelta(hours=25)
    assert calendar.add_business_time(paris(2027, 10, 31), timedelta(hours=24)) == paris(
        2027, 10, 31, 23
    )


def test_night_hours_over_the_clock_changes_count_real_time():
    # Open 01:00-04:00 on Sundays: the 02:00-03:00 hour is skipped in March, lived twice in
    # October.
    calendar = BusinessCalendar(hours=((),) * 6 + (((time(1), time(4)),),), holidays_country=None)
    march = calendar.business_time_between(paris(2027, 3, 28), paris(2027, 3, 29))
    october = calendar.business_time_between(paris(2027, 10, 31), paris(2027, 11, 1))
    assert (march, october) == (timedelta(hours=2), timedelta(hours=4))


def test_opening_hours_follow_the_local_clock_across_the_clock_change():
    calendar = BusinessCalendar.from_settings(
        {"hours": {"saturday": ["09:00-18:00"], "sunday": ["09:00-18:00"]}}
    )
    # Saturday 27 March 2027 is in winter time (UTC+1), Sunday 28 in summer time (UTC+2).
    assert calendar.next_open(paris(2027, 3, 27, 20)) == datetime(2027, 3, 28, 7, tzinfo=UTC)
    due = calendar.add_business_time(paris(2027, 3, 27, 17), timedelta(hours=2))
    assert due == paris(2027, 3, 28, 10)
    # Saturday 30 October is in summer time, Sunday 31 in winter time (UTC+1).
    assert calendar.next_open(paris(2027, 10, 30, 20)) == datetime(2027, 10, 31, 8, tzinfo=UTC)


def test_a_24_7_calendar_counts_every_moment():
    calendar = BusinessCalendar.always_open()
    start = datetime(2027, 7, 14, 3, 17, tzinfo=UTC)
    assert calendar.is_open(start)
    assert calendar.add_business_time(start, timedelta(days=3, minutes=5)) == start + timedelta(
        days=3, minutes=5
    )
    assert calendar.business_time_between(start, start + timedelta(days=10)) == timedelta(days=10)


def test_inputs_in_other_time_zones_are_read_as_the_same_instant():
    in_new_york = datetime(2027, 7, 9, 11, 30, tzinfo=ZoneInfo("America/New_York"))
    due = OFFICE.add_business_time(in_new_york, timedelta(hours=1))
    assert due == paris(2027, 7, 12, 9, 30)
    assert due.tzinfo is UTC


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        OFFICE.is_open(datetime(2027, 7, 9, 10))


def test_a_negative_target_is_refused():
    with pytest.raises(ValueError, match="zero or more"):
        OFFICE.add_business_time(paris(2027, 7, 9, 10), timedelta(minutes=-1))


def test_settings_round_trip_to_an_equal_calendar():
    calendar = BusinessCalendar(
        timezone="America/Montreal",
        hours=(((time(8), time(12)), (time(13), time(17, 30))),) * 5 + (((time(10), time(0)),), ()),
        holidays_country="CA",
        holidays_subdivision="QC",
        closed_dates=frozenset({date(2027, 12, 24), date(2027, 12, 31)}),
    )
    settings_ = calendar.to_settings()
    assert settings_["hours"]["saturday"] == ["10:00-24:00"]
    assert settings_["closed_dates"] == ["2027-12-24", "2027-12-31"]
    assert BusinessCalendar.from_settings(settings_) == calendar


def test_empty_settings_give_the_default_calendar():
    assert BusinessCalendar.from_settings({}) == OFFICE


def test_days_missing_from_the_hours_are_closed():
    calendar = BusinessCalendar.from_settings({"hours": {"monday": ["00:00-24:00"]}})
    assert calendar.is_open(paris(2027, 7, 5, 23, 59))
    assert not calendar.is_open(paris(2027, 7, 6, 10))


@pytest.mark.parametrize(
    ("settings_", "message"),
    [
        ({"hours": {"monday": ["18:00-09:00"]}}, "monday: 18:00-09:00 ends before it starts"),
        ({"hours": {"friday": ["09:00-09:00"]}}, "friday: 09:00-09:00 ends before it starts"),
        (
            {"hours": {"tuesday": ["09:00-13:00", "12:00-18:00"]}},
            "tuesday: 12:00-18:00 overlaps 09:00-13:00",
        ),
        ({"hours": {"monday": ["9h-18h"]}}, "monday: '9h-18h' is not an interval"),
        ({"hours": {"monday": ["09:00-25:00"]}}, "monday: '09:00-25:00' is not an interval"),
        ({"hours": {"monday": "09:00-18:00"}}, "monday: expected a list of intervals"),
        ({"hours": {"lundi": ["09:00-18:00"]}}, "lundi: unknown day"),
        ({"hours": {"monday": []}}, "hours: open on no day of the week"),
        ({"hours": ["09:00-18:00"]}, "hours: expected an object"),
        ({"timezone": "Europe/Lutece"}, "timezone: unknown time zone 'Europe/Lutece'"),
        ({"timezone": 1}, "timezone: expected a time zone name"),
        ({"holidays_country": "XX"}, "holidays_country: no public holidays known for 'XX'"),
        ({"holidays_subdivision": "99"}, "holidays_subdivision: FR has no subdivision '99'"),
        (
            {"holidays_country": None, "holidays_subdivision": "57"},
            "holidays_subdivision: set without a holidays_country",
        ),
        ({"closed_dates": ["2027-02-30"]}, "closed_dates: '2027-02-30' is not a date"),
        ({"closed_dates": "2027-12-24"}, "closed_dates: expected a list of dates"),
        ({"opening": {}}, "opening: unknown field"),
    ],
)
def test_invalid_settings_are_refused_with_the_field_named(settings_, message):
    with pytest.raises(ValueError) as refused:
        BusinessCalendar.from_settings(settings_)
    assert str(refused.value).startswith(message)


# -- properties: due times and timers agree ----------------------------------------------------

CALENDARS = [
    OFFICE,
    BusinessCalendar.from_settings(
        {
            "hours": {
                "monday": ["08:30-12:00", "14:00-19:00"],
                "wednesday": ["00:00-02:30", "22:00-24:00"],
                "saturday": ["09:00-12:00"],
            },
            "holidays_subdivision": "57",
            "closed_dates": ["2027-03-31"],
        }
    ),
    BusinessCalendar.always_open("Europe/Paris"),
    BusinessCalendar(timezone="America/New_York", holidays_country="US"),
]
calendars = st.sampled_from(CALENDARS)
moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))


@settings(max_examples=300, deadline=None)
@given(calendars, moments, durations)
def test_the_time_between_a_start_and_its_due_time_is_the_target(calendar, start, target):
    due = calendar.add_business_time(start, target)
    assert due >= start
    assert calendar.business_time_between(start, due) == target


@settings(max_examples=300, deadline=None)
@given(calendars, moments, moments)
def test_adding_the_time_used_lands_on_the_last_open_moment_before_the_end(calendar, start, end):
    used = calendar.business_time_between(start, end)
    landed = calendar.add_business_time(start, used)
    assert landed <= max(start, end)
    assert calendar.business_time_between(start, landed) == used
    # Nothing open is left between where it landed and the end.
    assert calendar.business_time_between(landed, end) == timedelta(0)


@settings(max_examples=300, deadline=None)
@given(calendars, moments, moments, moments)
def test_business_time_adds_up_over_consecutive_periods(calendar, a, b, c):
    first, middle, last = sorted((a, b, c))
    assert calendar.business_time_between(first, middle) + calendar.business_time_between(
        middle, last
    ) == calendar.business_time_between(first, last)


@settings(max_examples=300, deadline=None)
@given(calendars, moments)
def test_next_open_is_open_and_nothing_opens_before_it(calendar, moment):
    opening = calendar.next_open(moment)
    assert opening >= moment
    assert calendar.is_open(opening)
    assert calendar.business_time_between(moment, opening) == timedelta(0)
    assert calendar.is_open(moment) == (opening == moment)
