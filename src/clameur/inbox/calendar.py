"""Business hours for service-level targets: when the team is open, and how much open time passes.

A `BusinessCalendar` holds wall-clock opening hours per weekday in the workspace's time zone
(Monday to Friday, 09:00 to 18:00, by default), the country (and optional subdivision) whose
public holidays are closed days (France by default, from the `holidays` package), and extra closed
dates. Every datetime going in or out is timezone-aware and returned in UTC; local times are
worked out with zoneinfo, so a day on which the clocks change is an hour shorter or longer.

An interval is [start, end) and never crosses midnight; an end at `time(0)` ("24:00" in settings)
means the end of the day, so `00:00-24:00` every day is a 24/7 calendar. On a day when the clocks
go forward, a wall-clock time that does not exist is read with the offset in force before the
change (02:30 becomes 03:30 in Paris); a time that happens twice is its first occurrence.

Each day's open spans are converted to UTC once and kept, so adding business time walks day by
day over whole spans: a closed day costs one look-up, whatever the length of the target.

Settings (JSON, see `from_settings`):

    {"timezone": "Europe/Paris",
     "hours": {"monday": ["09:00-12:30", "13:30-18:00"], ..., "friday": ["09:00-17:00"]},
     "holidays_country": "FR", "holidays_subdivision": "57",
     "closed_dates": ["2027-12-24"]}

Missing fields take their defaults; a weekday missing from `hours` is closed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# An opening interval [start, end); an end at time(0) is midnight at the end of the day.
Interval = tuple[time, time]
WeekHours = tuple[tuple[Interval, ...], ...]

END_OF_DAY = time(0)
OFFICE_HOURS: WeekHours = (((time(9), time(18)),),) * 5 + ((),) * 2
ALWAYS_OPEN: WeekHours = (((time(0), END_OF_DAY),),) * 7

_FIELDS = ("timezone", "hours", "holidays_country", "holidays_subdivision", "closed_dates")
_ONE_DAY = timedelta(days=1)
_ZERO = timedelta(0)
# Days whose UTC spans are kept per calendar: years of due times, yet bounded.
_CACHE_DAYS = 4096
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")

Span = tuple[datetime, datetime]


@lru_cache(maxsize=64)
def _public_holidays(country: str, subdivision: str | None) -> holidays.HolidayBase:
    # One per country and subdivision: it fills itself in year by year as dates are asked.
    return holidays.country_holidays(country, subdiv=subdivision)


def _seconds(moment: time, *, end: bool = False) -> int:
    seconds = moment.hour * 3600 + moment.minute * 60 + moment.second
    return 86400 if end and seconds == 0 else seconds


def _clock(moment: time, *, end: bool = False) -> str:
    seconds = _seconds(moment, end=end)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def _parse_clock(text: str) -> time | None:
    match = _TIME.fullmatch(text.strip())
    if not match:
        return None
    hours, minutes, secs = int(match[1]), int(match[2]), int(match[3] or 0)
    if (hours, minutes, secs) == (24, 0, 0):
        return END_OF_DAY
    if hours > 23 or minutes > 59 or secs > 59:
        return None
    return time(hours, minutes, secs)


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {moment.isoformat()}")
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Opening hours, time zone and closed days that service-level targets are counted in."""

    timezone: str = "Europe/Paris"
    hours: WeekHours = OFFICE_HOURS
    holidays_country: str | None = "FR"
    holidays_subdivision: str | None = None
    closed_dates: frozenset[date] = frozenset()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _holidays: holidays.HolidayBase | None = field(init=False, repr=False, compare=False)
    _days: dict[date, tuple[Span, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"timezone: unknown time zone {self.timezone!r}") from None
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "hours", _checked_hours(self.hours))
        object.__setattr__(self, "closed_dates", frozenset(self.closed_dates))
        public: holidays.HolidayBase | None = None
        if self.holidays_country is not None:
            try:
                public = _public_holidays(self.holidays_country, self.holidays_subdivision)
            except NotImplementedError:
                if self.holidays_subdivision is None or not _has_country(self.holidays_country):
                    raise ValueError(
                        f"holidays_country: no public holidays known for {self.holidays_country!r}"
                    ) from None
                raise ValueError(
                    f"holidays_subdivision: {self.holidays_country} has no subdivision "
                    f"{self.holidays_subdivision!r}"
                ) from None
        elif self.holidays_subdivision is not None:
            raise ValueError("holidays_subdivision: set without a holidays_country")
        object.__setattr__(self, "_holidays", public)

    @classmethod
    def always_open(cls, timezone: str = "UTC") -> BusinessCalendar:
        """A 24/7 calendar: every moment is business time, holidays included."""
        return cls(timezone=timezone, hours=ALWAYS_OPEN, holidays_country=None)

    # -- questions ---------------------------------------------------------------------------

    def is_open(self, moment: datetime) -> bool:
        """Whether `moment` falls within opening hours on an open day."""
        moment = _as_utc(moment)
        start, _ = next(self._spans_from(moment))
        return start == moment

    def next_open(self, moment: datetime) -> datetime:
        """`moment` itself when open, else the next time the team opens (UTC)."""
        start, _ = next(self._spans_from(_as_utc(moment)))
        return start

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """When `duration` of business time has passed since `start` (UTC): a due time."""
        if duration < _ZERO:
            raise ValueError(f"expected a duration of zero or more, got {duration}")
        moment = _as_utc(start)
        if not duration:
            return moment
        remaining = duration
        for span_start, span_end in self._spans_from(moment):
            available = span_end - span_start
            if remaining <= available:
                return span_start + remaining
            remaining -= available
        raise AssertionError("open spans never run out")  # pragma: no cover

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """How much business time lies in [start, end); zero when `end` is not after `start`."""
        first, last = _as_utc(start), _as_utc(end)
        total = _ZERO
        if last <= first:
            return total
        for span_start, span_end in self._spans_from(first):
            if span_start >= last:
                break
            total += min(span_end, last) - span_start
        return total

    # -- settings ----------------------------------------------------------------------------

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> BusinessCalendar:
        """A calendar from its JSON settings; ValueError names the field that is wrong."""
        if not isinstance(settings, Mapping):
            raise ValueError("calendar: expected an object of settings")
        for name in settings:
            if name not in _FIELDS:
                raise ValueError(f"{name}: unknown field (expected one of {', '.join(_FIELDS)})")
        values: dict[str, Any] = {}
        if "timezone" in settings:
            if not isinstance(settings["timezone"], str):
                raise ValueError("timezone: expected a time zone name such as 'Europe/Paris'")
            values["timezone"] = settings["timezone"]
        if "hours" in settings:
            values["hours"] = _hours_from_settings(settings["hours"])
        for name in ("holidays_country", "holidays_subdivision"):
            if name in settings:
                value = settings[name]
                if value is not None and not (isinstance(value, str) and value):
                    raise ValueError(f"{name}: expected a code such as 'FR' or null")
                values[name] = value
        if "closed_dates" in settings:
            values["closed_dates"] = _dates_from_settings(settings["closed_dates"])
        return cls(**values)

    def to_settings(self) -> dict[str, Any]:
        """The calendar as JSON settings, which `from_settings` reads back to an equal calendar."""
        return {
            "timezone": self.timezone,
            "hours": {
                name: [f"{_clock(start)}-{_clock(end, end=True)}" for start, end in intervals]
                for name, intervals in zip(DAYS, self.hours, strict=True)
            },
            "holidays_country": self.holidays_country,
            "holidays_subdivision": self.holidays_subdivision,
            "closed_dates": sorted(day.isoformat() for day in self.closed_dates),
        }

    # -- the walk over open spans ------------------------------------------------------------

    def _spans_from(self, moment: datetime) -> Iterator[Span]:
        """The open spans (UTC) that end after `moment`, in order, none overlapping, the first
        clipped to start no earlier than `moment`."""
        # From the day before: where the clocks change at midnight, a local day's spans can
        # reach past the local date of `moment`.
        day = moment.astimezone(self._zone).date() - _ONE_DAY
        last_end = moment
        while True:
            for start, end in self._spans_of(day):
                if end <= last_end:
                    continue
                yield max(start, last_end), end
                last_end = end
            day += _ONE_DAY

    def _spans_of(self, day: date) -> tuple[Span, ...]:
        spans = self._days.get(day)
        if spans is None:
            spans = ()
            closed = day in self.closed_dates or (
                self._holidays is not None and day in self._holidays
            )
            if not closed:
                spans = tuple(
                    span
                    for span in (
                        self._span(day, start, end) for start, end in self.hours[day.weekday()]
                    )
                    if span[1] > span[0]
                )
            if len(self._days) >= _CACHE_DAYS:
                self._days.clear()
            self._days[day] = spans
        return spans

    def _span(self, day: date, start: time, end: time) -> Span:
        local_start = datetime.combine(day, start, tzinfo=self._zone)
        end_day = day + _ONE_DAY if end == END_OF_DAY else day
        local_end = datetime.combine(end_day, end, tzinfo=self._zone)
        return local_start.astimezone(UTC), local_end.astimezone(UTC)


def _has_country(code: str) -> bool:
    return code in holidays.list_supported_countries()


def _checked_hours(hours: Any) -> WeekHours:
    days = tuple(hours)
    if len(days) != 7:
        raise ValueError(f"hours: expected 7 weekdays, Monday first, got {len(days)}")
    checked = []
    open_somewhen = False
    for name, intervals in zip(DAYS, days, strict=True):
        spans = []
        for interval in intervals:
            try:
                start, end = interval
            except (TypeError, ValueError):
                start = end = None
            if not isinstance(start, time) or not isinstance(end, time):
                raise ValueError(f"{name}: expected (start, end) pairs of datetime.time")
            shown = f"{_clock(start)}-{_clock(end, end=True)}"
            if start.microsecond or end.microsecond:
                raise ValueError(f"{name}: {shown} has fractions of a second")
            if _seconds(end, end=True) <= _seconds(start):
                raise ValueError(f"{name}: {shown} ends before it starts")
            spans.append((start, end))
        spans.sort(key=lambda span: _seconds(span[0]))
        for before, after in zip(spans, spans[1:], strict=False):
            if _seconds(after[0]) < _seconds(before[1], end=True):
                raise ValueError(
                    f"{name}: {_clock(after[0])}-{_clock(after[1], end=True)} overlaps "
                    f"{_clock(before[0])}-{_clock(before[1], end=True)}"
                )
        open_somewhen = open_somewhen or bool(spans)
        checked.append(tuple(spans))
    if not open_somewhen:
        raise ValueError("hours: open on no day of the week")
    return tuple(checked)


def _hours_from_settings(value: Any) -> WeekHours:
    if not isinstance(value, Mapping):
        raise ValueError('hours: expected an object such as {"monday": ["09:00-18:00"]}')
    week: list[tuple[Interval, ...]] = [()] * 7
    for name, intervals in value.items():
        if name not in DAYS:
            raise ValueError(f"{name}: unknown day (expected one of {', '.join(DAYS)})")
        if isinstance(intervals, str) or not isinstance(intervals, list):
            raise ValueError(f'{name}: expected a list of intervals such as ["09:00-18:00"]')
        parsed = []
        for text in intervals:
            parts = text.split("-") if isinstance(text, str) else []
            clocks = [_parse_clock(part) for part in parts]
            if len(clocks) != 2 or clocks[0] is None or clocks[1] is None:
                raise ValueError(f"{name}: {text!r} is not an interval such as '09:00-18:00'")
            if clocks[0] == END_OF_DAY and parts[0].strip().startswith("24"):
                raise ValueError(f"{name}: {text!r} starts at the end of the day")
            parsed.append((clocks[0], clocks[1]))
        week[DAYS.index(name)] = tuple(parsed)
    return tuple(week)


def _dates_from_settings(value: Any) -> frozenset[date]:
    if isinstance(value, str) or not isinstance(value, list):
        raise ValueError('closed_dates: expected a list of dates such as ["2027-12-24"]')
    days = set()
    for text in value:
        try:
            days.add(date.fromisoformat(text))
        except (TypeError, ValueError):
            raise ValueError(f"closed_dates: {text!r} is not a date (YYYY-MM-DD)") from None
    return frozenset(days)
