"""Working hours in the person's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from pydantic import ValidationError

from caseflow.people.schedule import WorkSchedule

MOSCOW_WEEKDAYS = WorkSchedule(timezone="Europe/Moscow")


@pytest.mark.parametrize(
    ("at", "on"),
    [
        (datetime(2026, 11, 23, 6, 0, tzinfo=UTC), True),  # Monday 09:00 in Moscow
        (datetime(2026, 11, 23, 5, 59, tzinfo=UTC), False),  # 08:59
        (datetime(2026, 11, 23, 15, 0, tzinfo=UTC), False),  # 18:00: the shift has ended
        (datetime(2026, 11, 28, 10, 0, tzinfo=UTC), False),  # Saturday
        (datetime(2026, 11, 27, 20, 59, tzinfo=UTC), False),  # Friday 23:59
    ],
)
def test_weekday_office_hours(at: datetime, on: bool) -> None:
    assert MOSCOW_WEEKDAYS.on_shift(at) is on


def test_night_shift_belongs_to_the_day_it_starts() -> None:
    nights = WorkSchedule(timezone="Asia/Vladivostok", days=[4], start=time(22), end=time(6))
    friday_night = datetime(2026, 11, 27, 13, 0, tzinfo=UTC)  # Friday 23:00 local
    saturday_morning = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)  # Saturday 05:00 local
    saturday_night = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)  # Saturday 23:00 local
    assert nights.on_shift(friday_night) and nights.on_shift(saturday_morning)
    assert not nights.on_shift(saturday_night)


def test_daylight_saving_is_respected() -> None:
    berlin = WorkSchedule(timezone="Europe/Berlin", days=list(range(7)))
    assert berlin.on_shift(datetime(2026, 7, 1, 7, 30, tzinfo=UTC))  # 09:30 CEST
    assert not berlin.on_shift(datetime(2026, 12, 1, 7, 30, tzinfo=UTC))  # 08:30 CET


def test_bad_schedules_are_refused() -> None:
    with pytest.raises(ValidationError, match="time zone"):
        WorkSchedule(timezone="Mars/Olympus")
    with pytest.raises(ValidationError, match="days"):
        WorkSchedule(timezone="UTC", days=[7])
    assert MOSCOW_WEEKDAYS.describe() == "Mon,Tue,Wed,Thu,Fri 09:00–18:00 Europe/Moscow"
