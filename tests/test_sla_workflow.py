"""The SLA ledger: projected to sla_segments/sla_clocks, recomputed from history, exactly once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import select

import worker as worker_module
from caseflow.models import Request, RequestEvent, SlaClock, SlaSegment
from caseflow.platform.settings import ROOT
from caseflow.requests.lifecycle import Line
from caseflow.sla import ledger as sla_ledger
from caseflow.sla.policies import load as load_sla
from tests.conftest import capture_history
from tests.helpers import SUPERVISOR, act, open_request, request_start
from tests.test_request_workflow import (
    VIP_AGENT,
    VIP_FACTS,
    clock_of,
    sla_events,
)
from workflows.request import RequestWorkflow


async def ledger_rows(sessions, request_id: str) -> tuple[list[SlaSegment], list[SlaClock]]:
    async with sessions() as session:
        segments = await session.scalars(
            select(SlaSegment)
            .where(SlaSegment.request_id == request_id)
            .order_by(SlaSegment.segment)
        )
        clocks = await session.scalars(
            select(SlaClock)
            .where(SlaClock.request_id == request_id)
            .order_by(SlaClock.segment, SlaClock.kind)
        )
        return list(segments), list(clocks)


async def test_ledger_is_projected_and_recomputed_from_history(env, sessions) -> None:
    ts, queue = env
    handle, view = await open_request(ts.client, queue, request_start(customer=VIP_FACTS))
    request_id = view.id
    _, clocks = await ledger_rows(sessions, request_id)
    due = clock_of(view, "resolution").due
    assert [(c.kind, c.line, c.due_at) for c in clocks] == [
        ("first_response", "L2", clock_of(view, "first_response").due),
        ("resolution", "L2", due),
    ]  # the read model knows the deadlines as soon as the request is registered

    await act(handle, "start", VIP_AGENT)
    await ts.sleep(timedelta(hours=1))
    await act(handle, "request-info", VIP_AGENT, text="Пришлите договор")
    _, clocks = await ledger_rows(sessions, request_id)
    first, resolution = clocks
    assert first.stopped_at is not None and first.stop_reason == "answered"
    assert resolution.paused and resolution.due_at is None  # a paused clock has no due time
    await ts.sleep(timedelta(hours=2))
    await act(handle, "customer-reply", VIP_AGENT, text="Вот договор")
    await act(handle, "escalate", VIP_AGENT, to_line=Line.L3, reason="нужен эксперт")
    segments, clocks = await ledger_rows(sessions, request_id)
    assert [(s.segment, s.line, s.opened_because) for s in segments] == [
        (1, "L2", "registered"),
        (2, "L3", "escalate from L2"),
    ]
    assert segments[0].stop_reason == "escalate: moved to L3" and segments[1].stopped_at is None
    l2_resolution = next(c for c in clocks if c.segment == 1 and c.kind == "resolution")
    assert len(l2_resolution.pauses) == 1 and l2_resolution.pauses[0][1] is not None
    assert timedelta(hours=1) <= timedelta(seconds=l2_resolution.elapsed_s) < timedelta(hours=1.1)
    assert l2_resolution.assignee == "agent2-vip"  # who held it while it ran

    await act(handle, "cancel", SUPERVISOR, reason="клиент отказался")
    finished = await handle.result()
    # A query on a closed workflow replays its whole history on the worker: the ledger
    # recomputed from the event history.
    replayed = await handle.query(RequestWorkflow.view)
    assert replayed.sla is not None and finished.sla is not None
    assert replayed.sla.clocks == finished.sla.clocks
    segments, clocks = await ledger_rows(sessions, request_id)
    assert all(not c.request_open and c.stopped_at is not None for c in clocks)
    projected = [
        (c.segment, c.kind, c.line, c.started_at, c.stopped_at, c.stop_reason, c.elapsed_s)
        for c in clocks
    ]
    recomputed = sorted(
        (
            c.segment,
            c.kind,
            str(c.line),
            c.started_at,
            c.stopped_at,
            c.stop_reason,
            int(c.elapsed.total_seconds()),
        )
        for c in replayed.sla.clocks
    )
    assert projected == recomputed
    await capture_history(ts.client, handle.id)


async def test_breach_acts_once_across_a_worker_restart(env, sessions, rules) -> None:
    ts, _ = env
    task_queue = f"restart-{uuid.uuid4().hex}"
    policies = load_sla(ROOT / "routing_rules" / "sla")

    def new_worker(max_cached_workflows: int = 1000):
        return worker_module.build_worker(
            ts.client,
            task_queue=task_queue,
            sessions=sessions,
            rules=rules,
            sla=policies,
            max_cached_workflows=max_cached_workflows,
        )

    # Neither worker keeps workflows cached: no sticky queue outlives the first one, and
    # every workflow task replays the whole history, alarms already rung included.
    async with new_worker(max_cached_workflows=0):
        handle, _ = await open_request(ts.client, task_queue, request_start(customer=VIP_FACTS))
        await ts.sleep(timedelta(minutes=25))
        assert await sla_events(sessions, handle.id) == [("sla-warning", "first_response")]
    async with new_worker(max_cached_workflows=0):
        await ts.sleep(timedelta(minutes=10))
        await ts.sleep(timedelta(hours=3))
        view = await handle.query(RequestWorkflow.view)
        assert view.priority == "critical"
        assert await sla_events(sessions, handle.id) == [
            ("sla-warning", "first_response"),
            ("sla-breach", "first_response"),
            ("set-priority", None),
        ]
        _, clocks = await ledger_rows(sessions, view.id)
        breached = [c for c in clocks if c.breached_at is not None]
        assert [(c.kind, c.line) for c in breached] == [("first_response", "L2")]
        await act(handle, "cancel", SUPERVISOR, reason="тест")
    await capture_history(ts.client, handle.id)


async def test_a_step_and_its_clocks_reach_the_read_model_together(
    env, sessions, monkeypatch
) -> None:
    """A step's event and the ledger as of it are one write: while the ledger cannot be
    written, the step is not in the read model either (before, the event was committed on
    its own and the supervisors' pages showed it with the clocks of before it)."""
    ts, queue = env
    handle, view = await open_request(ts.client, queue, request_start(customer=VIP_FACTS))
    stuck, free = asyncio.Event(), asyncio.Event()
    real = sla_ledger.record

    async def slow(session, ledger) -> None:  # the step's ledger waits until let go
        if ledger.seq > view.last_seq:
            stuck.set()
            await free.wait()
        await real(session, ledger)

    monkeypatch.setattr(sla_ledger, "record", slow)
    step = asyncio.create_task(act(handle, "start", VIP_AGENT))
    await asyncio.wait_for(stuck.wait(), timeout=20)
    async with sessions() as session:
        seen = await session.scalar(select(Request.state).where(Request.id == view.id))
        recorded = list(
            await session.scalars(
                select(RequestEvent.action).where(
                    RequestEvent.request_id == view.id, RequestEvent.seq > view.last_seq
                )
            )
        )
    assert (seen, recorded) == ("assigned", [])  # nothing of the step yet
    free.set()
    started = await step
    _, clocks = await ledger_rows(sessions, view.id)
    first = next(c for c in clocks if c.kind == "first_response")
    assert started.state == "in_progress"
    assert first.stop_reason == "answered" and first.as_of_seq == started.last_seq
    async with sessions() as session:
        assert await session.scalar(select(Request.state).where(Request.id == view.id)) == (
            "in_progress"
        )
    await act(handle, "cancel", SUPERVISOR, reason="тест")
    await capture_history(ts.client, handle.id)
