"""Business calendars: the reference cases, holidays, DST, and the laws of adding time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caseflow.sla.calendar import ALWAYS, BusinessCalendar

MSK = ZoneInfo("Europe/Moscow")
OFFICE = BusinessCalendar(
    "office",
    "Europe/Moscow",
    {d: (time(9), time(18)) for d in range(5)},
    holidays=frozenset({date(2026, 11, 4)}),
    special={date(2026, 12, 31): (time(9), time(17))},
)


def msk(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MSK)


def test_friday_evening_lands_on_monday() -> None:
    # Registered 17:30 Friday, 4 business hours on 09:00–18:00 → Monday 12:30.
    assert OFFICE.add(msk(2026, 11, 27, 17, 30), timedelta(hours=4)) == msk(2026, 11, 30, 12, 30)
    # "8 business hours" from Friday 17:00 also lands on Monday.
    assert OFFICE.add(msk(2026, 11, 27, 17, 0), timedelta(hours=8)) == msk(2026, 11, 30, 16, 0)


def test_a_holiday_in_between_is_skipped() -> None:
    # Tuesday 17:00 + 2 h: Wednesday 4 November is a holiday → Thursday 10:00.
    assert OFFICE.add(msk(2026, 11, 3, 17, 0), timedelta(hours=2)) == msk(2026, 11, 5, 10, 0)


def test_shortened_day_and_off_hours_start() -> None:
    # 31 December ends at 17:00; 1 January is no holiday in this calendar (a Friday).
    assert OFFICE.add(msk(2026, 12, 31, 16, 0), timedelta(hours=2)) == msk(2027, 1, 1, 10, 0)
    assert OFFICE.add(msk(2026, 11, 23, 6, 0), timedelta(hours=1)) == msk(2026, 11, 23, 10, 0)


def test_a_deadline_may_fall_on_the_end_of_the_day() -> None:
    end_of_friday = OFFICE.add(msk(2026, 11, 27, 17, 0), timedelta(hours=1))
    assert end_of_friday == msk(2026, 11, 27, 18, 0)
    assert OFFICE.add(end_of_friday, timedelta(0)) == end_of_friday
    assert OFFICE.add(end_of_friday, timedelta(minutes=1)) == msk(2026, 11, 30, 9, 1)


def test_round_the_clock_calendar() -> None:
    start = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)
    assert ALWAYS.add(start, timedelta(hours=2)) == datetime(2026, 11, 29, 1, 30, tzinfo=UTC)
    assert ALWAYS.between(start, start + timedelta(days=3)) == timedelta(days=3)


def test_dst_change_is_counted_in_real_hours() -> None:
    berlin = BusinessCalendar("berlin", "Europe/Berlin", {d: (time(0), time(0)) for d in range(7)})
    before = datetime(2026, 3, 29, 0, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    # The night clocks go forward has 23 hours: local midnight to midnight is 23 h of work.
    assert berlin.between(before, before + timedelta(days=1)) == timedelta(days=1)
    office = BusinessCalendar(
        "berlin-office", "Europe/Berlin", {d: (time(9), time(17)) for d in range(7)}
    )
    saturday = datetime(2026, 3, 28, 16, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert office.add(saturday, timedelta(hours=2)) == datetime(
        2026, 3, 29, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")
    )  # 10:00 CEST, after the change


def test_between_counts_only_working_time() -> None:
    assert OFFICE.between(msk(2026, 11, 27, 17, 30), msk(2026, 11, 30, 12, 30)) == timedelta(
        hours=4
    )
    assert OFFICE.between(msk(2026, 11, 30, 12, 0), msk(2026, 11, 30, 11, 0)) == timedelta(0)


def test_no_working_time_is_an_error_not_a_hang() -> None:
    never = BusinessCalendar("never", "UTC", {})
    with pytest.raises(ValueError, match="no working time"):
        never.add(datetime(2026, 1, 1, tzinfo=UTC), timedelta(hours=1))


moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(MSK)
)
durations = st.integers(0, 60 * 60 * 24 * 10).map(lambda s: timedelta(seconds=s))


@given(start=moments, a=durations, b=durations)
def test_adding_is_additive_and_monotonic(start: datetime, a: timedelta, b: timedelta) -> None:
    assert OFFICE.add(start, a + b) == OFFICE.add(OFFICE.add(start, a), b)
    small, large = sorted((a, b))
    assert OFFICE.add(start, small) <= OFFICE.add(start, large)


@given(start=moments, a=durations)
def test_between_undoes_add(start: datetime, a: timedelta) -> None:
    assert OFFICE.between(start, OFFICE.add(start, a)) == a
