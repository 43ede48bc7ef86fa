"""What supervisors ask of the SLA ledger: breaches, clocks at risk, predictions, statistics.

Each list is one query over a partial index of `sla_clocks` (open breaches; running clocks
by due time) joined to the request for the caller's zone.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, Select, func, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from caseflow.models import Request, SlaClock, Team
from caseflow.requests.lifecycle import OPEN_STATES
from caseflow.sla.calendar import BusinessCalendar

Zone = Callable[[Select[Any]], Select[Any]]
# A clock of the ledger with its request's number, as lists read it.
ClockRow = Row[Any]
# A clock's place in a list: (time, request, segment, kind).
Position = tuple[datetime, str, int, str]
RESOLVED = "resolved"
ANSWERED = "answered"


@dataclass(frozen=True)
class Filters:
    line: str | None = None
    queue: str | None = None
    assignee: str | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        for column, value in (
            (SlaClock.line, self.line),
            (SlaClock.queue, self.queue),
            (SlaClock.assignee, self.assignee),
        ):
            if value is not None:
                query = query.where(column == value)
        return query


def _listing(
    zone: Zone, filters: Filters, when: InstrumentedAttribute[Any], after: Position | None
) -> Select[Any]:
    # Plain rows, not ORM objects: a page is read, never changed.
    columns = (*SlaClock.__table__.columns, Request.number)
    joined = select(*columns).join(Request, Request.id == SlaClock.request_id)
    query = filters.apply(zone(cast(Select[Any], joined)))
    order = (when, SlaClock.request_id, SlaClock.segment, SlaClock.kind)
    if after is not None:
        query = query.where(tuple_(*order) > tuple_(*after))
    return query.order_by(*order)


def position(clock: ClockRow, when: datetime) -> Position:
    return (when, clock.request_id, clock.segment, clock.kind)


async def breaches(
    db: AsyncSession,
    zone: Zone,
    filters: Filters,
    *,
    since: datetime | None = None,
    after: Position | None = None,
    limit: int = 50,
) -> list[ClockRow]:
    """Breached clocks of open requests, longest breached first."""
    query = _listing(zone, filters, SlaClock.breached_at, after).where(
        SlaClock.request_open == true(), SlaClock.breached_at.is_not(None)
    )
    if since is not None:
        query = query.where(SlaClock.breached_at >= since)
    return list((await db.execute(query.limit(limit))).all())


def running() -> tuple[ColumnElement[bool], ...]:
    """The partial index's condition: clocks that can still breach (paused ones have no due)."""
    return (
        SlaClock.request_open == true(),
        SlaClock.stopped_at.is_(None),
        SlaClock.breached_at.is_(None),
        SlaClock.due_at.is_not(None),
    )


async def due_before(
    db: AsyncSession,
    zone: Zone,
    filters: Filters,
    until: datetime,
    *,
    after: Position | None = None,
    limit: int = 50,
) -> list[ClockRow]:
    """Running clocks due by `until`, soonest first."""
    query = _listing(zone, filters, SlaClock.due_at, after).where(
        *running(), SlaClock.due_at <= until
    )
    return list((await db.execute(query.limit(limit))).all())


async def medians(
    db: AsyncSession,
    group: InstrumentedAttribute[Any],
    value: InstrumentedAttribute[Any],
    conditions: Sequence[ColumnElement[bool]],
) -> dict[Any, float]:
    """Median of `value` per `group`: in the database where it can, else here."""
    if db.get_bind().dialect.name == "postgresql":
        median = func.percentile_cont(0.5).within_group(value)
        rows = await db.execute(select(group, median).where(*conditions).group_by(group))
        return {key: float(m) for key, m in rows.all() if m is not None}
    values: dict[Any, list[float]] = {}
    for key, v in (await db.execute(select(group, value).where(*conditions))).all():
        values.setdefault(key, []).append(float(v))
    return {key: statistics.median(vs) for key, vs in values.items()}


@dataclass(frozen=True)
class Forecast:
    """How long an assignee's queue takes: open requests × the queue's median handling."""

    depth: dict[str, int]
    handling: dict[str, timedelta]

    def expected(self, clock: ClockRow, calendar: BusinessCalendar, now: datetime) -> datetime:
        work = self.handling.get(clock.queue or "", timedelta(0))
        return calendar.add(now, work * self.depth.get(clock.assignee or "", 1))

    def longest(self) -> timedelta:
        return max(self.handling.values(), default=timedelta(0)) * max(
            self.depth.values(), default=1
        )


async def forecast(
    db: AsyncSession,
    now: datetime,
    *,
    recent: timedelta = timedelta(days=30),
    sample: int = 200,
) -> Forecast:
    """Queue depths of assignees, and each queue's median business time to resolve over its
    latest `sample` resolutions within `recent`."""
    rows = await db.execute(
        select(Request.assignee, func.count())
        .where(Request.state.in_([str(s) for s in OPEN_STATES]), Request.assignee.is_not(None))
        .group_by(Request.assignee)
    )
    depth = {str(assignee): int(count) for assignee, count in rows.all()}
    handling: dict[str, timedelta] = {}
    for queue in await db.scalars(select(Team.code)):
        spent = await db.scalars(
            select(SlaClock.elapsed_s)
            .where(
                SlaClock.queue == queue,
                SlaClock.kind == "resolution",
                SlaClock.stop_reason == RESOLVED,
                SlaClock.stopped_at >= now - recent,
            )
            .order_by(SlaClock.stopped_at.desc())
            .limit(sample)
        )
        values = list(spent)
        if values:
            handling[queue] = timedelta(seconds=statistics.median(values))
    return Forecast(depth, handling)


@dataclass(frozen=True)
class StatsRow:
    group: str | None
    clocks: int
    met: int
    breached: int
    median_first_response_s: float | None
    median_resolution_s: float | None

    @property
    def met_pct(self) -> float | None:
        decided = self.met + self.breached
        return None if decided == 0 else round(100 * self.met / decided, 1)


async def stats(
    db: AsyncSession, zone: Zone, group_by: str, start: datetime, end: datetime
) -> list[StatsRow]:
    """Clocks started in [start, end): met (stopped in time), breached, medians per group."""
    column: InstrumentedAttribute[Any] = {
        "line": SlaClock.line,
        "queue": SlaClock.queue,
        "agent": SlaClock.assignee,
    }[group_by]
    ids = zone(select(Request.id)).scalar_subquery()
    scope = (SlaClock.started_at >= start, SlaClock.started_at < end, SlaClock.request_id.in_(ids))
    breached = SlaClock.breached_at.is_not(None)
    met = SlaClock.stopped_at.is_not(None) & SlaClock.breached_at.is_(None)
    counts = await db.execute(
        select(
            column,
            func.count(),
            func.count().filter(met),
            func.count().filter(breached),
        )
        .where(*scope)
        .group_by(column)
    )
    first = await medians(
        db,
        column,
        SlaClock.elapsed_s,
        (*scope, SlaClock.kind == "first_response", SlaClock.stop_reason == ANSWERED),
    )
    resolution = await medians(
        db,
        column,
        SlaClock.elapsed_s,
        (*scope, SlaClock.kind == "resolution", SlaClock.stop_reason == RESOLVED),
    )
    return [
        StatsRow(key, total, n_met, n_breached, first.get(key), resolution.get(key))
        for key, total, n_met, n_breached in sorted(counts.all(), key=lambda r: str(r[0]))
    ]


async def breaches_since(db: AsyncSession, usernames: list[str], since: datetime) -> dict[str, int]:
    rows = await db.execute(
        select(SlaClock.assignee, func.count())
        .where(SlaClock.assignee.in_(usernames), SlaClock.breached_at >= since)
        .group_by(SlaClock.assignee)
    )
    return {str(name): int(n) for name, n in rows.all()}
