"""The SLA ledger in the read model: each request's segments and clocks, newest step wins."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.models import SlaClock, SlaSegment
from caseflow.requests.lifecycle import Line
from caseflow.sla.terms import Clock, ClockStatus, SlaLedger

# The ledger is rewritten after every step of every request: its statements are built once
# (Core inserts of the tables, not the ORM's bulk insert of the classes).
SEGMENTS = insert(cast(Table, SlaSegment.__table__))
CLOCKS = insert(cast(Table, SlaClock.__table__))
NEWEST = select(func.max(SlaClock.as_of_seq)).where(SlaClock.request_id == bindparam("request_id"))
# Every row of a ledger carries the step it was written at: the clocks go unless a newer
# step wrote them, and say so by coming back.
CLEARING_CLOCKS = (
    delete(SlaClock)
    .where(SlaClock.request_id == bindparam("request_id"), SlaClock.as_of_seq <= bindparam("seq"))
    .returning(SlaClock.as_of_seq)
)
CLEARING_SEGMENTS = delete(SlaSegment).where(SlaSegment.request_id == bindparam("request_id"))


async def record(session: AsyncSession, ledger: SlaLedger, *, first: bool = False) -> bool:
    """Replace the request's ledger rows; False if a newer step was already written (then
    nothing is written). Two statements clear the old rows; the newest step is looked up only
    when no clock was cleared. `first`: the request was registered in this same
    transaction, so it has no rows yet (two statements fewer on every intake)."""
    if not first:
        request = {"request_id": ledger.request_id}
        cleared = await session.execute(CLEARING_CLOCKS, {**request, "seq": ledger.seq})
        if cleared.first() is None:  # no clocks of this step or before: none, or newer ones
            newest = await session.scalar(NEWEST, request)
            if newest is not None and newest > ledger.seq:
                return False
        await session.execute(CLEARING_SEGMENTS, request)
    segments: dict[int, SlaSegment] = {}
    for clock in ledger.clocks:
        segments.setdefault(clock.segment, segment_row(ledger.request_id, clock))
        seg = segments[clock.segment]
        if clock.stopped_at is None:
            seg.stopped_at, seg.stop_reason = None, None
        elif seg.stopped_at is not None and clock.stopped_at > seg.stopped_at:
            seg.stopped_at, seg.stop_reason = clock.stopped_at, clock.stop_reason
    if segments:
        await session.execute(SEGMENTS, [segment_values(s) for s in segments.values()])
        await session.execute(CLOCKS, [clock_values(ledger, c) for c in ledger.clocks])
    return True


def segment_values(segment: SlaSegment) -> dict[str, Any]:
    return {column.key: getattr(segment, column.key) for column in SlaSegment.__table__.columns}


def segment_row(request_id: str, clock: ClockStatus) -> SlaSegment:
    return SlaSegment(
        request_id=request_id,
        segment=clock.segment,
        line=clock.line,
        policy=clock.policy,
        calendar=clock.calendar,
        started_at=clock.started_at,
        stopped_at=clock.stopped_at,
        opened_because=clock.opened_because,
        stop_reason=clock.stop_reason,
    )


def clock_values(ledger: SlaLedger, clock: ClockStatus) -> dict[str, Any]:
    return dict(
        request_id=ledger.request_id,
        segment=clock.segment,
        kind=clock.kind,
        line=clock.line,
        queue=clock.queue,
        assignee=clock.assignee,
        policy=clock.policy,
        calendar=clock.calendar,
        target_s=int(clock.target.total_seconds()),
        elapsed_s=int(clock.elapsed.total_seconds()),
        carried_s=round(clock.carried.total_seconds()),
        started_at=clock.started_at,
        stopped_at=clock.stopped_at,
        stop_reason=clock.stop_reason,
        due_at=clock.due,
        paused=clock.paused,
        pauses=[
            [begin.isoformat(), end.isoformat() if end else None] for begin, end in clock.pauses
        ],
        warned_at=clock.warned_at,
        breached_at=clock.breached_at,
        request_open=ledger.open,
        as_of=ledger.at,
        as_of_seq=ledger.seq,
    )


def clock_of_row(row: Any) -> Clock:
    """A clock of the ledger (a `sla_clocks` row) as the workflow kept it, to read it now."""
    return Clock(
        kind=row.kind,
        line=Line(row.line),
        policy=row.policy,
        calendar=row.calendar,
        target=timedelta(seconds=row.target_s),
        started_at=row.started_at,
        stopped_at=row.stopped_at,
        pauses=[tuple(pause) for pause in row.pauses or []],
        warned_at=row.warned_at,
        breached_at=row.breached_at,
        segment=row.segment,
        stop_reason=row.stop_reason,
        queue=row.queue,
        assignee=row.assignee,
        carried=timedelta(seconds=row.carried_s or 0),
    )
