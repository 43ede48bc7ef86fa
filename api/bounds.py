"""Edge types that keep out what the database or the calendar cannot hold: a bad value is
a 422 naming the field, never a 5xx from deeper down."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Path
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    TypeAdapter,
    ValidationError,
)

NUMBER = re.compile(r"[+-]?\d+(\.\d*)?([eE][+-]?\d+)?")
# Row ids and counters are 32-bit integers in the schema.
MAX_INT = 2**31 - 1


def representable(value: datetime) -> datetime:
    """In UTC, as the database keeps it; a time without an offset, or whose UTC falls off
    the calendar, is refused."""
    if value.tzinfo is None:
        raise ValueError("give a time zone (Z or ±HH:MM)")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("outside the calendar once converted to UTC") from None


def rfc3339_only(value: Any) -> Any:
    """A time is written as RFC 3339 text, never a bare number of seconds."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or NUMBER.fullmatch(value.strip()):
        raise ValueError("give a time as RFC 3339, e.g. 2026-12-01T09:00:00+03:00")
    return value


def iso_day_only(value: Any) -> Any:
    """A date is written as YYYY-MM-DD text, never a number or a time."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not DAY.fullmatch(value.strip()):
        raise ValueError("give a date as YYYY-MM-DD")
    return value.strip()


def number_only(value: Any) -> Any:
    """A number is written as a JSON number, never text or true/false."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("give a number")
    return value


Number = Annotated[float, BeforeValidator(number_only), Field(allow_inf_nan=False)]
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
Day = Annotated[date, BeforeValidator(iso_day_only)]
# A moment with its offset (RFC 3339), in UTC from here on.
Moment = Annotated[AwareDatetime, BeforeValidator(rfc3339_only), AfterValidator(representable)]
RowId = Annotated[int, Field(ge=1, le=MAX_INT)]
RowIdPath = Annotated[int, Path(ge=1, le=MAX_INT)]
Count = Annotated[int, Field(ge=0, le=MAX_INT)]


DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MOMENT: TypeAdapter[datetime] = TypeAdapter(Moment)


def day_or_moment(value: str, field: str, zone: ZoneInfo, *, end: bool = False) -> datetime:
    """A query value that is a date (the day's start in `zone`; with `end`, the next day's
    start, so `to=2026-12-01` takes that whole day in) or an RFC 3339 time."""
    if DATE.fullmatch(value.strip()):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"{field}: not a date") from exc
        if end:
            day += timedelta(days=1)
        return datetime.combine(day, time(0), zone).astimezone(UTC)
    try:
        return MOMENT.validate_python(value)
    except ValidationError as exc:
        raise ValueError(f"{field}: give a date (2026-12-01) or a time with its offset") from exc


def fits(value: Any) -> bool:
    """Whether every integer inside a decoded cursor fits a column."""
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -MAX_INT - 1 <= value <= MAX_INT
    if isinstance(value, list):
        return all(fits(v) for v in value)
    return True
