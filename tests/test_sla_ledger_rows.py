"""A request's SLA ledger in the read model: each step's ledger replaces the one before, and
a late retry of an older step leaves the newer one as it is (PostgreSQL and SQLite)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from activities.requests import RequestActivities
from caseflow.models import Base, SlaClock, SlaSegment
from caseflow.platform.db import transaction
from caseflow.sla import ledger as sla_ledger
from caseflow.sla.terms import SlaLedger
from tests.test_assignment import NOW, make_team, register_input
from tests.test_supervisor_sla import clock

HOUR = timedelta(hours=1)


def ledger_at(request_id: str, seq: int, elapsed: timedelta) -> SlaLedger:
    started = NOW - HOUR
    return SlaLedger(
        workflow_id=f"request-{request_id}",
        request_id=request_id,
        seq=seq,
        at=NOW,
        open=True,
        clocks=[
            clock("first_response", started=started, target=HOUR, elapsed=elapsed),
            clock("resolution", started=started, target=8 * HOUR, elapsed=elapsed),
        ],
    )


async def rows(sessions, request_id: str) -> tuple[list[tuple[str, int, int]], int]:
    async with sessions() as session:
        clocks = await session.execute(
            select(SlaClock.kind, SlaClock.as_of_seq, SlaClock.elapsed_s)
            .where(SlaClock.request_id == request_id)
            .order_by(SlaClock.kind)
        )
        segments = await session.scalars(
            select(SlaSegment.segment).where(SlaSegment.request_id == request_id)
        )
        return [tuple(row) for row in clocks.all()], len(segments.all())


async def newest_wins(sessions, request_id: str) -> None:
    async def record(seq: int, minutes: int) -> bool:
        async with transaction(sessions) as session:
            return await sla_ledger.record(
                session, ledger_at(request_id, seq, timedelta(minutes=minutes))
            )

    assert await record(5, 10)
    assert not await record(3, 2)  # a retry of an older step, arriving late
    assert await rows(sessions, request_id) == (
        [("first_response", 5, 600), ("resolution", 5, 600)],
        1,
    )
    assert await record(7, 20)
    assert await record(7, 20)  # the same step again: written again, the same
    assert await rows(sessions, request_id) == (
        [("first_response", 7, 1200), ("resolution", 7, 1200)],
        1,
    )


async def test_the_newest_step_s_ledger_stays_on_postgresql(sessions, rules) -> None:
    code, _ = await make_team(sessions, [{"name": "solo"}])
    data = register_input(code)
    await RequestActivities(sessions, rules).register_request(data)
    await newest_wins(sessions, data.request.request_id)


async def test_the_newest_step_s_ledger_stays_on_sqlite() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    try:
        await newest_wins(async_sessionmaker(engine), "req-sqlite")
    finally:
        await engine.dispose()
