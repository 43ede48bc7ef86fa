"""RequestWorkflow on the time-skipping test server, with the real activities on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import select, update
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

import worker as worker_module
from caseflow.db import transaction
from caseflow.lifecycle import Line, State
from caseflow.models import Absence, Request, RequestEvent, User
from caseflow.payloads import AbsenceStart
from tests.conftest import capture_history
from tests.helpers import (
    AGENT_B2B,
    EXPERT,
    MANAGER,
    OPERATOR,
    ROMASHKA_FACTS,
    SUPERVISOR,
    act,
    open_request,
    request_start,
)
from tests.test_assignment import make_team
from workflows.absence import AbsenceWorkflow
from workflows.request import RequestWorkflow


@pytest_asyncio.fixture
async def env(time_skipping_env: WorkflowEnvironment, sessions, rules) -> AsyncIterator[tuple]:
    task_queue = f"wf-{uuid.uuid4().hex}"
    worker = worker_module.build_worker(
        time_skipping_env.client, task_queue=task_queue, sessions=sessions, rules=rules
    )
    async with worker:
        yield time_skipping_env, task_queue


async def test_request_moves_across_lines_to_close(env, sessions) -> None:
    ts, queue = env
    handle, view = await open_request(ts.client, queue)
    assert view.state == State.ASSIGNED and view.line == Line.L1 and view.queue == "hotline"
    assert view.number and view.number.startswith("REQ-")
    assert view.assignment and view.assignment.rule == "everyone-else"
    assert view.assignee in {"operator", "operator-b"}

    await act(handle, "start")
    assert (
        await act(handle, "request-info", text="Номер договора?")
    ).state == State.WAITING_CUSTOMER
    assert (await act(handle, "customer-reply", text="Д-42")).state == State.IN_PROGRESS

    on_l2 = await act(handle, "escalate", to_line=Line.L2, reason="нужны права второй линии")
    assert (on_l2.line, on_l2.queue, on_l2.assignee) == (Line.L2, "l2-b2b", "agent2-b2b")
    assert on_l2.assignment and on_l2.assignment.rule == "b2b-escalations"
    await act(handle, "start", AGENT_B2B)
    on_l3 = await act(handle, "escalate", AGENT_B2B, to_line=Line.L3, reason="эксперт")
    assert (on_l3.line, on_l3.assignee) == (Line.L3, "expert3")
    back = await act(handle, "return", EXPERT, reason="разъяснено")
    assert (back.line, back.queue, back.assignee, back.state) == (
        Line.L2,
        "l2-b2b",
        "agent2-b2b",
        State.ASSIGNED,
    )
    await act(handle, "start", AGENT_B2B)
    await act(handle, "resolve", AGENT_B2B, text="тариф сменён")
    closed = await act(handle, "close", AGENT_B2B)
    assert closed.state == State.CLOSED
    assert (await handle.result()).state == State.CLOSED
    await capture_history(ts.client, handle.id)

    async with sessions() as session:
        row = await session.scalar(select(Request).where(Request.workflow_id == handle.id))
        actions = (
            await session.scalars(
                select(RequestEvent.action)
                .where(RequestEvent.workflow_id == handle.id)
                .order_by(RequestEvent.seq)
            )
        ).all()
    assert row is not None and row.state == State.CLOSED and row.closed_at is not None
    assert actions == [
        "register",
        "assign",
        "start",
        "request-info",
        "customer-reply",
        "escalate",
        "start",
        "escalate",
        "return",
        "start",
        "resolve",
        "close",
    ]


async def _accepted_updates(handle) -> int:
    history = await handle.fetch_history()
    return sum(
        1
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    )


async def test_illegal_and_forbidden_actions_never_enter_history(env) -> None:
    ts, queue = env
    handle, _ = await open_request(ts.client, queue)
    before = await _accepted_updates(handle)

    with pytest.raises(WorkflowUpdateFailedError) as illegal:
        await act(handle, "resolve", text="рано")
    cause = illegal.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "illegal_transition"
    assert "start" in cause.details[0]["allowed"]

    with pytest.raises(WorkflowUpdateFailedError) as forbidden:
        await act(handle, "reassign", OPERATOR, assignee="operator-b", reason="хочу")
    assert isinstance(forbidden.value.cause, ApplicationError)
    assert forbidden.value.cause.type == "forbidden"

    with pytest.raises(WorkflowUpdateFailedError) as wrong_line:
        await act(handle, "start", EXPERT)
    assert isinstance(wrong_line.value.cause, ApplicationError)
    assert wrong_line.value.cause.type == "forbidden"

    with pytest.raises(WorkflowUpdateFailedError) as skip:
        await act(handle, "escalate", to_line=Line.L3, reason="сразу к экспертам")
    assert isinstance(skip.value.cause, ApplicationError)
    assert skip.value.cause.type == "illegal_transition"

    with pytest.raises(WorkflowUpdateFailedError):
        await act(handle, "start", MANAGER)

    assert await _accepted_updates(handle) == before
    assert (await handle.query(RequestWorkflow.view)).state == State.ASSIGNED
    await act(handle, "cancel", SUPERVISOR, reason="дубликат")
    assert (await handle.result()).state == State.CANCELLED
    await capture_history(ts.client, handle.id)


async def test_resolved_request_closes_itself_after_quiet_period(env, sessions) -> None:
    ts, queue = env
    handle, _ = await open_request(ts.client, queue)
    await act(handle, "start")
    resolved = await act(handle, "resolve", text="ответили")
    assert resolved.auto_close_at is not None
    await ts.sleep(timedelta(days=3, minutes=1))
    result = await handle.result()
    assert result.state == State.CLOSED
    async with sessions() as session:
        last = await session.scalar(
            select(RequestEvent)
            .where(RequestEvent.workflow_id == handle.id)
            .order_by(RequestEvent.seq.desc())
            .limit(1)
        )
    assert last is not None and last.action == "close" and last.actor == "system"
    await capture_history(ts.client, handle.id)


async def test_reopen_cancels_auto_close(env) -> None:
    ts, queue = env
    handle, _ = await open_request(
        ts.client, queue, request_start(auto_close_after=timedelta(days=3))
    )
    await act(handle, "start")
    await act(handle, "resolve", text="ответили")
    await ts.sleep(timedelta(days=2))
    reopened = await act(handle, "reopen", reason="не помогло")
    assert reopened.state == State.IN_PROGRESS and reopened.auto_close_at is None
    await ts.sleep(timedelta(days=2))
    assert (await handle.query(RequestWorkflow.view)).state == State.IN_PROGRESS
    await act(handle, "resolve", text="теперь помогло")
    await ts.sleep(timedelta(days=2, hours=23))
    assert (await handle.query(RequestWorkflow.view)).state == State.RESOLVED
    await ts.sleep(timedelta(hours=2))
    assert (await handle.result()).state == State.CLOSED
    await capture_history(ts.client, handle.id)


async def test_intake_retry_returns_the_same_request(env) -> None:
    ts, queue = env
    start = request_start()
    handle, first = await open_request(ts.client, queue, start)
    _, again = await open_request(ts.client, queue, start)
    assert again.number == first.number and again.id == first.id
    other = start.model_copy(update={"body_hash": "0" * 64})
    with pytest.raises(WorkflowUpdateFailedError) as reused:
        await open_request(ts.client, queue, other)
    assert isinstance(reused.value.cause, ApplicationError)
    assert reused.value.cause.type == "idempotency_key_reused"
    await act(handle, "cancel", reason="тест")


async def test_held_request_is_assigned_when_someone_becomes_free(env, sessions) -> None:
    ts, queue = env
    prospect = ROMASHKA_FACTS.model_copy(update={"status": "prospect", "region": "RU-TVE"})
    handle, view = await open_request(ts.client, queue, request_start(customer=prospect))
    assert (view.state, view.queue, view.assignee) == (
        State.REGISTERED,
        "acquisition-regions",
        None,
    )
    assert view.assignment and view.assignment.retry_after == timedelta(minutes=10)

    await set_availability(sessions, "sales-regions", "available")
    try:
        await ts.sleep(timedelta(minutes=11))
        retried = await handle.query(RequestWorkflow.view)
    finally:
        await set_availability(sessions, "sales-regions", "off")
    assert (retried.state, retried.assignee) == (State.ASSIGNED, "sales-regions")
    assert retried.assignment and retried.assignment.retry_after is None
    await act(handle, "cancel", SUPERVISOR, reason="тест")
    await capture_history(ts.client, handle.id)


async def test_taking_a_held_request_ends_the_hold(env) -> None:
    ts, queue = env
    prospect = ROMASHKA_FACTS.model_copy(update={"status": "prospect", "region": "RU-TVE"})
    handle, _ = await open_request(ts.client, queue, request_start(customer=prospect))
    taken = await act(handle, "take")
    assert (taken.state, taken.assignee) == (State.ASSIGNED, "operator")
    await ts.sleep(timedelta(minutes=30))
    assert (await handle.query(RequestWorkflow.view)).assignee == "operator"
    await act(handle, "cancel", reason="тест")


async def set_availability(sessions, username: str, availability: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(User).where(User.username == username).values(availability=availability)
        )


async def test_unstarted_requests_go_back_when_an_absence_starts(env, sessions) -> None:
    ts, queue = env
    team, (first, second) = await make_team(
        sessions, [{"name": "first"}, {"name": "second"}], line=Line.L1, requeue_when_away=True
    )
    handle, view = await open_request(ts.client, queue)
    moved = await act(handle, "reassign", SUPERVISOR, queue=team, reason="в команду")
    assert moved.assignee == first
    starts = (view.registered_at or datetime.now(UTC)) + timedelta(hours=1)
    async with transaction(sessions) as session:
        person = await session.scalar(select(User).where(User.username == first))
        assert person is not None
        absence = Absence(
            user_id=person.id, starts_at=starts, ends_at=starts + timedelta(days=5), reason="отпуск"
        )
        session.add(absence)
        await session.flush()
        absence_id = absence.id
    absence_run = await ts.client.start_workflow(
        AbsenceWorkflow.run,
        AbsenceStart(absence_id=absence_id, username=first, starts_at=starts, reason="отпуск"),
        id=f"absence-{absence_id}-{uuid.uuid4().hex[:6]}",
        task_queue=queue,
    )
    await ts.sleep(timedelta(minutes=30))
    assert (await handle.query(RequestWorkflow.view)).assignee == first  # not yet
    await ts.sleep(timedelta(hours=1))
    assert await absence_run.result() == 1
    after = await handle.query(RequestWorkflow.view)
    assert (after.state, after.queue, after.assignee) == (State.ASSIGNED, team, second)
    async with sessions() as session:
        last = await session.scalar(
            select(RequestEvent)
            .where(RequestEvent.workflow_id == handle.id)
            .order_by(RequestEvent.seq.desc())
            .limit(1)
        )
    assert last is not None and last.action == "requeue" and "absent" in (last.reason or "")
    # Left open: the Java test server loses track of updates sent after a workflow-to-workflow
    # signal ("update … not found"); the dev server does not (see test_admin).
    await capture_history(ts.client, handle.id)
