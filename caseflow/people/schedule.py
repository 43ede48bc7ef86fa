"""Working hours of a person, in their own time zone (DST-correct through zoneinfo)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from caseflow.sla.calendar import IanaZone

# A wall-clock time of day in the schedule's own zone (no offset): `09:00`.
ClockTime = Annotated[
    time,
    WithJsonSchema({"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"}),
]

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class WorkSchedule(BaseModel):
    """Days (0 = Monday) and hours; a shift may run past midnight (start later than end)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: IanaZone
    days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], min_length=1)
    start: ClockTime = time(9, 0)
    end: ClockTime = time(18, 0)

    @field_validator("days")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if any(not 0 <= d <= 6 for d in value):
            raise ValueError("days are 0 (Monday) to 6 (Sunday)")
        return sorted(set(value))

    def on_shift(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.timezone))
        clock, day = local.time(), local.weekday()
        if self.start <= self.end:
            return day in self.days and self.start <= clock < self.end
        # Overnight: the shift belongs to the day it started on.
        if clock >= self.start:
            return day in self.days
        return clock < self.end and (day - 1) % 7 in self.days

    def describe(self) -> str:
        days = ",".join(DAY_NAMES[d] for d in self.days)
        return f"{days} {self.start:%H:%M}–{self.end:%H:%M} {self.timezone}"


def zone_of_day(schedule: dict[str, Any] | None, default_timezone: str) -> ZoneInfo:
    """The time zone a person's "today" is in: their schedule's, else the default."""
    return ZoneInfo((schedule or {}).get("timezone") or default_timezone)


def today_starts(
    schedule: dict[str, Any] | None, default_timezone: str, now: datetime | None = None
) -> datetime:
    """00:00 of the person's today, in UTC: what "today" means on every supervisor's figure
    (the workload's breaches today, the SLA stats by default)."""
    zone = zone_of_day(schedule, default_timezone)
    local = (now or datetime.now(UTC)).astimezone(zone)
    return datetime.combine(local.date(), time(0), zone).astimezone(UTC)
