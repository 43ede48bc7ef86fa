"""SLA policies: which targets apply to a request, and on which calendar.

Policies live in `routing_rules/sla/*.yaml`, beside the routing rules, and use the same
condition language (`when`). The first matching policy applies; the last must match
everything. Clocks themselves are in caseflow.sla.terms, which workflows import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from caseflow.platform.yamlsource import (
    SourceError,
    SourceErrors,
    each_valid,
    line_of,
    texts_of,
)
from caseflow.requests.lifecycle import Line
from caseflow.requests.topics import book_beside, unknown_topics
from caseflow.routing.conditions import ConditionError, Predicate, compile_when
from caseflow.sla.calendar import BusinessCalendar, IanaZone
from caseflow.sla.terms import CalendarTerms, Clock, SlaTerms, Targets

WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
HOURS_FORM = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


def parse_hours(text: str) -> tuple[time, time]:
    match = HOURS_FORM.match(text.strip())
    if match is None:
        raise ValueError(f"'{text}': hours are written HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
        raise ValueError(f"'{text}': not a time of day")
    start, end = time(h1, m1), time(0) if h2 == 24 else time(h2, m2)
    if end != time(0) and end <= start:
        raise ValueError(f"'{text}': a working day ends after it starts")
    return start, end


class CalendarSource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: IanaZone
    hours: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], str] | Literal["24x7"]
    holidays: list[date] = Field(default_factory=list)
    shortened: dict[date, str] = Field(
        default_factory=dict, description="dates with other hours (shortened or working)"
    )

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for text in value.values():
                parse_hours(text)
        return value

    @field_validator("shortened")
    @classmethod
    def _shortened(cls, value: dict[date, str]) -> dict[date, str]:
        for text in value.values():
            parse_hours(text)
        return value

    def build(self, name: str) -> BusinessCalendar:
        if self.hours == "24x7":
            weekly = {d: (time(0), time(0)) for d in range(7)}
        else:
            weekly = {WEEKDAYS[day]: parse_hours(text) for day, text in self.hours.items()}
        return BusinessCalendar(
            name,
            self.timezone,
            weekly,
            frozenset(self.holidays),
            {day: parse_hours(text) for day, text in self.shortened.items()},
        )


class LineTargets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_response: timedelta | None = None
    resolution: timedelta


PauseReason = Literal["waiting_customer", "external"]
PAUSE_WAITING: PauseReason = "waiting_customer"
Notify = Literal["notify_assignee", "notify_supervisor"]
NOTIFY_SUPERVISOR: Notify = "notify_supervisor"
BreachAction = (
    Notify
    | dict[Literal["raise_priority"], Literal["high", "critical"]]
    | dict[Literal["escalate"], Literal["L2", "L3"]]
    | dict[Literal["reassign_queue"], str]
)


# What a line change (escalate, return, hand-off) and a reopening do to the resolution
# clock: `continue` carries the business time already used into the new line's clock (the
# customer waits for one resolution), `restart` gives the new line its full target.
LineChange = Literal["continue", "restart"]


def default_breach_actions() -> list[BreachAction]:
    return [NOTIFY_SUPERVISOR]


class PolicySource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    when: dict[str, Any] | None = None
    calendar: str
    warn_at: float = Field(default=0.8, gt=0, lt=1, description="share of the target")
    targets: dict[Line, LineTargets]
    pause_on: list[PauseReason] = Field(default_factory=lambda: [PAUSE_WAITING])
    on_breach: list[BreachAction] = Field(default_factory=default_breach_actions)
    on_line_change: LineChange = "continue"


class SlaFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    calendars: dict[str, CalendarSource] = Field(default_factory=dict)
    policies: list[PolicySource] = Field(default_factory=list)


@dataclass(frozen=True)
class Policy:
    name: str
    file: str
    when: Predicate
    calendar: BusinessCalendar
    warn_at: float
    targets: dict[Line, LineTargets]
    pause_on: tuple[str, ...]
    on_breach: tuple[Any, ...]
    on_line_change: str = "continue"

    def terms(self) -> SlaTerms:
        """What a workflow needs to run this policy's clocks without reading any file."""
        return SlaTerms(
            policy=self.name,
            calendar=CalendarTerms.of(self.calendar),
            warn_at=self.warn_at,
            targets={
                line: Targets(first_response=t.first_response, resolution=t.resolution)
                for line, t in self.targets.items()
            },
            pause_on=list(self.pause_on),
            on_breach=list(self.on_breach),
            on_line_change=self.on_line_change,
        )

    def target(self, line: Line, kind: Literal["first_response", "resolution"]) -> timedelta | None:
        targets = self.targets.get(line)
        return None if targets is None else getattr(targets, kind)


@dataclass(frozen=True)
class SlaBook:
    policies: tuple[Policy, ...]
    calendars: dict[str, BusinessCalendar]

    def policy_for(self, facts: dict[str, Any]) -> Policy:
        return next(p for p in self.policies if p.when.holds(facts))


def load(directory: Path) -> SlaBook:
    """Read and check every SLA file; all problems are reported together."""
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise SourceErrors([SourceError(str(directory), 0, "no SLA policies (*.yaml) found")])
    topics = book_beside(directory.parent)
    errors: list[SourceError] = []
    parsed: list[tuple[str, SlaFile, dict[Any, int]]] = []
    calendars: dict[str, BusinessCalendar] = {}
    for checked in each_valid(SlaFile, texts_of(directory), errors):
        sla_file, data, lines = checked.model, checked.data, checked.lines
        errors.extend(unknown_topics(data, topics, checked.name, lines))
        parsed.append((checked.name, sla_file, lines))
        for name, calendar_source in sla_file.calendars.items():
            calendars[name] = calendar_source.build(name)
    policies: list[Policy] = []
    for file, sla_file, lines in parsed:
        for i, source in enumerate(sla_file.policies):
            loc: tuple[str | int, ...] = ("policies", i)
            if source.calendar not in calendars:
                errors.append(
                    SourceError(
                        file,
                        line_of((*loc, "calendar"), lines),
                        f"unknown calendar '{source.calendar}'",
                    )
                )
                continue
            try:
                when = compile_when(source.when, (*loc, "when"))
            except ConditionError as exc:
                errors.append(SourceError(file, line_of(exc.loc, lines), exc.reason))
                continue
            policies.append(
                Policy(
                    source.name,
                    file,
                    when,
                    calendars[source.calendar],
                    source.warn_at,
                    source.targets,
                    tuple(source.pause_on),
                    tuple(source.on_breach),
                    source.on_line_change,
                )
            )
    if not errors and (not policies or policies[-1].when.describe() != "always"):
        errors.append(
            SourceError(
                files[-1].name, 1, "the last policy must apply to every request (no `when`)"
            )
        )
    if errors:
        raise SourceErrors(errors)
    return SlaBook(tuple(policies), calendars)


__all__ = ["Clock", "Policy", "SlaBook", "load"]
