"""SLA policies as data and clocks as a ledger: the issue's reference cases, and load errors."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from caseflow.platform.settings import ROOT
from caseflow.platform.yamlsource import SourceErrors
from caseflow.requests.lifecycle import Line
from caseflow.sla import policies as sla

BOOK = sla.load(ROOT / "routing_rules" / "sla")
MSK = ZoneInfo("Europe/Moscow")
HEAD = "calendars: {c: {timezone: UTC, hours: 24x7}}\npolicies:\n  - name: a\n"


def msk(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=MSK)  # 23 November 2026 is a Monday


def clock(policy: sla.Policy, started: datetime, line: Line = Line.L1) -> sla.Clock:
    target = policy.target(line, "resolution")
    assert target is not None
    return sla.Clock(
        kind="resolution",
        line=line,
        policy=policy.name,
        calendar=policy.calendar.name,
        target=target,
        started_at=started,
    )


def test_policies_are_chosen_by_tier_topic_and_priority() -> None:
    assert BOOK.policy_for({"tier": "vip", "topic": "card_block"}).name == "vip"
    assert BOOK.policy_for({"tier": "standard", "topic": "card_unblock"}).name == "card-block"
    assert BOOK.policy_for({"tier": "standard", "priority": "high"}).name == "urgent"
    assert BOOK.policy_for({"tier": "standard", "priority": "normal"}).name == "standard"


def test_pause_moves_the_deadline_by_the_pause() -> None:
    # Registered 08:00 with a 2 h target, paused 09:00–10:05 → due 11:05.
    vip = BOOK.policy_for({"tier": "vip"})
    two_hours = clock(vip, msk(23, 8)).model_copy(update={"target": timedelta(hours=2)})
    calendar = vip.calendar
    assert two_hours.due(calendar, msk(23, 8)) == msk(23, 10)
    two_hours.pause(msk(23, 9))
    assert two_hours.paused and two_hours.due(calendar, msk(23, 9, 30)) is None
    two_hours.resume(msk(23, 10, 5))
    assert two_hours.due(calendar, msk(23, 10, 5)) == msk(23, 11, 5)
    assert two_hours.elapsed(calendar, msk(23, 11, 5)) == timedelta(hours=2)


def test_friday_evening_request_is_due_on_monday() -> None:
    # Registered 17:30 Friday, 4 business hours on a 09:00–18:00 calendar → Monday 12:30.
    standard = BOOK.policy_for({})
    four_hours = clock(standard, msk(27, 17, 30)).model_copy(update={"target": timedelta(hours=4)})
    assert four_hours.due(standard.calendar, msk(27, 17, 30)) == msk(30, 12, 30)


def test_raised_priority_keeps_elapsed_time_and_takes_the_new_target() -> None:
    standard, urgent = BOOK.policy_for({}), BOOK.policy_for({"priority": "high"})
    running = clock(standard, msk(23, 9))
    assert running.due(standard.calendar, msk(23, 9)) == msk(23, 17)  # 8 business hours
    at = msk(23, 11)
    new_target = urgent.target(Line.L1, "resolution")
    assert new_target is not None
    running.target, running.policy = new_target, urgent.name
    assert running.elapsed(urgent.calendar, at) == timedelta(hours=2)
    assert running.due(urgent.calendar, at) == msk(23, 13)  # 4 h target, 2 h already used


def test_stopped_clock_keeps_its_elapsed_time() -> None:
    standard = BOOK.policy_for({})
    done = clock(standard, msk(23, 9))
    done.stop(msk(23, 12), "resolved")
    assert done.due(standard.calendar, msk(24, 9)) is None
    assert done.elapsed(standard.calendar, msk(25, 9)) == timedelta(hours=3)


def test_holiday_and_shortened_day_in_the_shipped_calendar() -> None:
    office = BOOK.calendars["moscow-office"]
    # Tuesday 3 November ends at 17:00, Wednesday 4 November is a holiday.
    assert office.add(msk(3, 16), timedelta(hours=2)) == msk(5, 10)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            "calendars: {c: {timezone: UTC, hours: 24x7}}\npolicies:\n  - name: a\n"
            "    calendar: nope\n    targets: {L1: {resolution: PT1H}}\n",
            4,
            "unknown calendar",
        ),
        (
            "calendars: {c: {timezone: UTC, hours: {mon: '18:00-09:00'}}}\npolicies: []\n",
            1,
            "ends after it starts",
        ),
        ("calendars: {c: {timezone: Mars/Base, hours: 24x7}}\n", 1, "time zone"),
        (
            HEAD + "    calendar: c\n"
            "    when: {tier: vip}\n    targets: {L1: {resolution: PT1H}}\n",
            1,
            "last policy must apply",
        ),
        (
            HEAD + "    calendar: c\n"
            "    when: {colour: red}\n    targets: {L1: {resolution: PT1H}}\n",
            5,
            "unknown field",
        ),
        (
            HEAD + "    calendar: c\n"
            "    targets: {L1: {resolution: PT1H}}\n    on_breach: [{explode: now}]\n",
            6,
            "on_breach",
        ),
    ],
)
def test_bad_policy_files_name_file_line_and_reason(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    (tmp_path / "policies.yaml").write_text(text)
    with pytest.raises(SourceErrors) as caught:
        sla.load(tmp_path)
    error = caught.value.errors[0]
    assert (error.file, error.line) == ("policies.yaml", line), str(caught.value)
    assert words in str(caught.value)
