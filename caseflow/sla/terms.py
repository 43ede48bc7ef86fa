"""SLA terms and clocks as workflows hold them: plain data and deterministic arithmetic.

A request's workflow receives its policy's terms (targets, calendar, warning share, pause
and breach rules) from an activity at registration and runs its clocks from them alone,
so replaying its history gives the same deadlines.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from caseflow.requests.lifecycle import Line
from caseflow.sla.calendar import BusinessCalendar, BusinessTime

ClockKind = Literal["first_response", "resolution"]


class CalendarTerms(BaseModel):
    name: str
    timezone: str
    weekly: dict[int, tuple[time, time]]
    holidays: list[date] = Field(default_factory=list)
    special: dict[date, tuple[time, time]] = Field(default_factory=dict)

    @classmethod
    def of(cls, calendar: BusinessCalendar) -> CalendarTerms:
        return cls(
            name=calendar.name,
            timezone=calendar.timezone,
            weekly=dict(calendar.weekly),
            holidays=sorted(calendar.holidays),
            special=dict(calendar.special),
        )

    def build(self) -> BusinessCalendar:
        return BusinessCalendar(
            self.name,
            self.timezone,
            dict(self.weekly),
            frozenset(self.holidays),
            dict(self.special),
        )


class Targets(BaseModel):
    first_response: timedelta | None = None
    resolution: timedelta


class SlaTerms(BaseModel):
    policy: str
    calendar: CalendarTerms
    warn_at: float
    targets: dict[Line, Targets]
    pause_on: list[str] = Field(default_factory=list)
    on_breach: list[Any] = Field(default_factory=list)
    on_line_change: str = Field(default="continue", description="continue | restart")

    def target(self, line: Line, kind: ClockKind) -> timedelta | None:
        targets = self.targets.get(line)
        return None if targets is None else getattr(targets, kind)

    def first_clocks(
        self, *, line: Line, at: datetime, queue: str | None, assignee: str | None
    ) -> list[Clock]:
        """The clocks a request starts with at registration (its first segment): the one
        place both the registration's ledger and the workflow take them from."""
        return self.open_segment(
            ("first_response", "resolution"),
            line=line,
            at=at,
            segment=1,
            because="registered",
            queue=queue,
            assignee=assignee,
        )

    def open_segment(
        self,
        kinds: tuple[ClockKind, ...],
        *,
        line: Line,
        at: datetime,
        segment: int,
        because: str,
        queue: str | None,
        assignee: str | None,
        carried: dict[str, timedelta] | None = None,
    ) -> list[Clock]:
        """The clocks a line's new segment starts with (kinds without a target: none);
        `carried`: business time a kind's clock starts with (used before, on other lines)."""
        return [
            Clock(
                kind=kind,
                line=line,
                policy=self.policy,
                calendar=self.calendar.name,
                target=target,
                started_at=at,
                segment=segment,
                opened_because=because,
                queue=queue,
                assignee=assignee,
                carried=(carried or {}).get(kind, timedelta(0)),
            )
            for kind in kinds
            if (target := self.target(line, kind)) is not None
        ]


class Clock(BaseModel):
    """One SLA clock of one segment (a line's stay with the request): first response or
    resolution."""

    kind: ClockKind
    line: Line
    policy: str
    calendar: str
    target: timedelta
    started_at: datetime
    stopped_at: datetime | None = None
    pauses: list[tuple[datetime, datetime | None]] = Field(default_factory=list)
    warned_at: datetime | None = None
    breached_at: datetime | None = None
    segment: int = 1
    opened_because: str = "registered"
    stop_reason: str | None = None
    queue: str | None = Field(default=None, description="who held the request while it ran")
    assignee: str | None = None
    carried: timedelta = Field(
        default=timedelta(0), description="business time used before this segment"
    )

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1][1] is None

    def elapsed(self, calendar: BusinessCalendar, at: datetime) -> timedelta:
        """Business time the clock has run by `at`, pauses taken out."""
        end = min(at, self.stopped_at) if self.stopped_at else at
        total = self.carried + calendar.between(self.started_at, end)
        for begin, finish in self.pauses:
            total -= calendar.between(begin, min(finish or end, end))
        return total

    def due(self, calendar: BusinessCalendar, at: datetime) -> datetime | None:
        """When the target is reached if the clock runs on from `at`; none while stopped."""
        if self.stopped_at is not None or self.paused:
            return None
        left = max(self.target - self.elapsed(calendar, at), timedelta(0))
        return calendar.add(at, left)

    def pause(self, at: datetime) -> None:
        if not self.paused and self.stopped_at is None:
            self.pauses.append((at, None))

    def resume(self, at: datetime) -> None:
        if self.paused:
            self.pauses[-1] = (self.pauses[-1][0], at)

    def stop(self, at: datetime, reason: str) -> None:
        self.resume(at)
        if self.stopped_at is None:
            self.stopped_at, self.stop_reason = at, reason

    @property
    def running(self) -> bool:
        return self.stopped_at is None and not self.paused

    def next_alarm(
        self, calendar: BusinessCalendar, at: datetime, warn_at: float
    ) -> tuple[datetime, str] | None:
        """The next moment this clock must act on (warning, then breach), if it runs."""
        if not self.running or self.breached_at is not None:
            return None
        elapsed = self.elapsed(calendar, at)
        if self.warned_at is None:
            return calendar.add(at, max(self.target * warn_at - elapsed, timedelta(0))), "warning"
        return calendar.add(at, max(self.target - elapsed, timedelta(0))), "breach"

    def status(self, calendar: BusinessCalendar, at: datetime) -> ClockStatus:
        """The clock as read at `at`: a breached clock's due is when it fell due, and it
        tells by how much business time it is (or was, when stopped) over its target."""
        elapsed = self.elapsed(calendar, at)
        return ClockStatus(
            kind=self.kind,
            line=self.line,
            policy=self.policy,
            calendar=self.calendar,
            target=self.target,
            elapsed=elapsed,
            remaining=max(self.target - elapsed, timedelta(0)),
            overdue_by=elapsed - self.target if elapsed > self.target else None,
            paused=self.paused,
            stopped=self.stopped_at is not None,
            due=self.breached_at or self.due(calendar, at),
            warned=self.warned_at is not None,
            breached=self.breached_at is not None or elapsed > self.target,
            started_at=self.started_at,
            stopped_at=self.stopped_at,
            segment=self.segment,
            opened_because=self.opened_because,
            stop_reason=self.stop_reason,
            pauses=list(self.pauses),
            warned_at=self.warned_at,
            breached_at=self.breached_at,
            queue=self.queue,
            assignee=self.assignee,
            carried=self.carried,
        )


class ClockStatus(BaseModel):
    """A clock as people see it: target, business time used and left, due, flags."""

    kind: ClockKind
    line: Line
    policy: str
    calendar: str
    target: BusinessTime
    elapsed: BusinessTime
    remaining: BusinessTime
    overdue_by: BusinessTime | None = Field(
        default=None, description="business time past the target (by now, or when stopped)"
    )
    paused: bool
    stopped: bool
    due: datetime | None
    warned: bool
    breached: bool
    started_at: datetime
    stopped_at: datetime | None
    segment: int = Field(default=1, description="the line stay this clock belongs to")
    opened_because: str = "registered"
    stop_reason: str | None = None
    pauses: list[tuple[datetime, datetime | None]] = Field(default_factory=list)
    warned_at: datetime | None = None
    breached_at: datetime | None = None
    queue: str | None = None
    assignee: str | None = None
    carried: BusinessTime = Field(
        default=timedelta(0), description="business time used on earlier lines (continue)"
    )


class SlaLedger(BaseModel):
    """Every clock of a request as of one recorded step, for the read model."""

    workflow_id: str
    request_id: str
    seq: int = Field(description="the request's last event: older ledgers never overwrite")
    at: datetime
    open: bool
    clocks: list[ClockStatus]


class SlaView(BaseModel):
    policy: str
    first_response_due: datetime | None = Field(description="of the current line's clock")
    resolution_due: datetime | None = Field(description="of the current line's clock")
    calendar: str
    warn_at: float
    clocks: list[ClockStatus] = Field(description="every segment, oldest first: the ledger")


def sla_view(
    terms: SlaTerms | SlaView,
    clocks: list[Clock],
    calendar: BusinessCalendar,
    line: Line,
    at: datetime,
) -> SlaView:
    """The request's SLA as read at `at`: the same arithmetic for the workflow, the request's
    page and the supervisor's lists, so they never disagree."""
    statuses = [clock.status(calendar, at) for clock in clocks]

    def due(kind: ClockKind) -> datetime | None:
        current = [c for c in statuses if c.kind == kind and c.line == line]
        return current[-1].due if current else None

    return SlaView(
        policy=terms.policy,
        first_response_due=due("first_response"),
        resolution_due=due("resolution"),
        calendar=terms.calendar if isinstance(terms, SlaView) else terms.calendar.name,
        warn_at=terms.warn_at,
        clocks=statuses,
    )


CLOCK_FIELDS = frozenset(Clock.model_fields)


def clock_of(status: ClockStatus) -> Clock:
    return Clock.model_validate(status.model_dump(include=set(CLOCK_FIELDS)))


def read_now(view: SlaView, calendar: BusinessCalendar | None, line: Line, at: datetime) -> SlaView:
    """A recorded SLA view read again at `at` (a query answers as of the workflow's last
    step); unchanged if its calendar is no longer known."""
    if calendar is None:
        return view
    return sla_view(view, [clock_of(c) for c in view.clocks], calendar, line, at)
