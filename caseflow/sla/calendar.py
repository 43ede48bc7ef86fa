"""Business calendars: working hours per weekday in a time zone, holidays, shortened days.

Pure and deterministic, so workflows compute SLA deadlines with it from workflow.now().
All arithmetic is on aware datetimes; local days are turned into UTC intervals through
zoneinfo, which makes DST changes come out right.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, PlainSerializer, WithJsonSchema

# Holiday-free stretches longer than this mean a calendar with no working time at all.
SEARCH_LIMIT_DAYS = 3 * 366


def known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone '{name}' (use an IANA name)") from exc
    return name


# A time zone field in settings files and payloads: an IANA name zoneinfo knows.
IanaZone = Annotated[str, AfterValidator(known_zone)]

Hours = tuple[time, time]  # [start, end) of a working day; end time(0) means midnight


@dataclass(frozen=True)
class BusinessCalendar:
    name: str
    timezone: str
    weekly: dict[int, Hours]  # weekday (0 = Monday) → hours; missing: a day off
    holidays: frozenset[date] = frozenset()
    special: dict[date, Hours] = field(default_factory=dict)  # shortened or moved days

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def hours_on(self, day: date) -> Hours | None:
        if day in self.special:
            return self.special[day]
        if day in self.holidays:
            return None
        return self.weekly.get(day.weekday())

    def interval(self, day: date) -> tuple[datetime, datetime] | None:
        """The working interval of a local day, as aware datetimes in the calendar's zone."""
        hours = self.hours_on(day)
        if hours is None:
            return None
        start = datetime.combine(day, hours[0], self.zone)
        end_day = day + timedelta(days=1) if hours[1] == time(0) else day
        return start, datetime.combine(end_day, hours[1], self.zone)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of working time after `start`."""
        if duration < timedelta(0):
            raise ValueError("business durations are not negative")
        if duration == timedelta(0):
            return start
        remaining = duration
        cursor = start.astimezone(self.zone)
        day = cursor.date() - timedelta(days=1)  # an interval of the day before may run on
        for _ in range(SEARCH_LIMIT_DAYS):
            span = self.interval(day)
            day += timedelta(days=1)
            if span is None or span[1] <= cursor:
                continue
            begin = max(span[0], cursor)
            available = span[1] - begin
            if remaining <= available:
                return (begin + remaining).astimezone(start.tzinfo)
            remaining -= available
            cursor = span[1]
        raise ValueError(f"calendar '{self.name}' has no working time for {SEARCH_LIMIT_DAYS} days")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time within [start, end)."""
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        last = end.astimezone(self.zone).date()
        while day <= last:
            span = self.interval(day)
            day += timedelta(days=1)
            if span is None:
                continue
            overlap = min(span[1], end) - max(span[0], start)
            if overlap > timedelta(0):
                total += overlap
        return total


ALWAYS = BusinessCalendar("24x7", "UTC", {d: (time(0), time(0)) for d in range(7)})


def iso_seconds(value: timedelta) -> str:
    """An ISO 8601 duration in whole seconds (`PT1H30M`, `P1DT2H`, `PT0S`): what people and
    the OpenAPI `duration` format read; a fraction of a second is rounded off."""
    total = round(value.total_seconds())
    sign, total = ("-", -total) if total < 0 else ("", total)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    time_part = "".join(
        f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n
    )
    day_part = f"{days}D" if days else ""
    if not day_part and not time_part:
        time_part = "0S"
    return f"{sign}P{day_part}{'T' + time_part if time_part else ''}"


# A duration shown in whole seconds (in JSON), still `format: duration` in the schema.
WholeSeconds = Annotated[
    timedelta,
    PlainSerializer(iso_seconds, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "duration"}),
]


def iso_hours(value: timedelta) -> str:
    """Business time as ISO 8601 hours, minutes and whole seconds (`PT40H`, never `P1DT16H`):
    a working "day" is not 24 hours, so business durations are never told in days."""
    total = round(value.total_seconds())
    sign, total = ("-", -total) if total < 0 else ("", total)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    time_part = "".join(
        f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n
    )
    return f"{sign}PT{time_part or '0S'}"


# Working time on a calendar (SLA targets, elapsed, remaining): hours, never days.
BusinessTime = Annotated[
    timedelta,
    PlainSerializer(iso_hours, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "format": "duration",
            "description": "working time on the clock's calendar, in hours (PT40H)",
        }
    ),
]
