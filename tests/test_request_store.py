"""The read model takes each step of a request once, however often its activity is retried,
on PostgreSQL and on SQLite (`make run`'s default), and the case row only moves forward."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from activities.requests import RequestActivities
from caseflow.models import Base, Request, RequestEvent
from caseflow.payloads import EventRecord
from caseflow.requests import store
from caseflow.requests.lifecycle import State
from tests.test_assignment import NOW, make_team, register_input


def step(assigned: EventRecord, seq: int, action: str, to_state: State) -> EventRecord:
    return assigned.model_copy(
        update={
            "seq": seq,
            "at": NOW + timedelta(minutes=seq),
            "action": action,
            "from_state": assigned.to_state,
            "to_state": to_state,
            "assignment": None,
        }
    )


async def events_of(session, workflow_id: str) -> list[tuple[int, str]]:
    rows = await session.execute(
        select(RequestEvent.seq, RequestEvent.action)
        .where(RequestEvent.workflow_id == workflow_id)
        .order_by(RequestEvent.seq)
    )
    return [(seq, action) for seq, action in rows.all()]


async def test_a_retried_step_is_written_once_and_a_late_one_does_not_move_the_case_back(
    sessions, rules
) -> None:
    code, _ = await make_team(sessions, [{"name": "solo"}])
    activities = RequestActivities(sessions, rules)
    data = register_input(code)
    await activities.register_request(data)
    assigned = data.assign.event.model_copy(update={"queue": code, "to_state": State.ASSIGNED})
    started = step(assigned, 3, "start", State.IN_PROGRESS)
    resolved = step(assigned, 4, "resolve", State.RESOLVED)

    await activities.record_request_event(started)
    await activities.record_request_event(resolved)
    await activities.record_request_event(started)  # retried after the next step was written

    async with sessions() as session:
        assert await events_of(session, data.workflow_id) == [
            (1, "register"),
            (2, "assign"),
            (3, "start"),
            (4, "resolve"),
        ]
        row = await session.scalar(select(Request).where(Request.workflow_id == data.workflow_id))
    assert row is not None and (row.state, row.last_seq) == (State.RESOLVED, 4)


async def test_sqlite_takes_a_step_once() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    data = register_input("hotline")
    started = step(data.assign.event, 3, "start", State.IN_PROGRESS)
    try:
        async with async_sessionmaker(engine)() as session:
            assert await store.project(session, started) is True
            assert await store.project(session, started) is False
            await session.commit()
            count = await session.scalar(select(func.count()).select_from(RequestEvent))
            assert count == 1
    finally:
        await engine.dispose()
