"""Readiness tells the truth: not ready while no worker polls the task queue (intake would
hang), ready again as soon as one does; liveness stays liveness."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest_asyncio

import worker as worker_module
from api.app import create_app
from caseflow.platform.db import transaction
from caseflow.platform.workers import beat, heartbeat
from tests.conftest import TICKETING


@pytest_asyncio.fixture
async def lonely(settings, engine, dev_env) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """An API for a task queue no worker serves yet (silence: 2 s)."""
    queue = f"ready-{uuid.uuid4().hex}"
    mine = settings.model_copy(update={"task_queue": queue, "worker_silence": timedelta(seconds=2)})
    app = create_app(mine, temporal=dev_env.client, engine=engine, ticketing=TICKETING)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client, queue


async def ready(http: httpx.AsyncClient) -> tuple[int, str]:
    answer = await http.get("/readyz")
    body = answer.json()
    return answer.status_code, body.get("worker") or body.get("checks", {}).get("worker", "")


async def test_the_session_api_is_ready_with_its_worker(http) -> None:
    assert await ready(http) == (200, "ok")


async def test_ready_only_while_a_worker_polls_the_queue(lonely, dev_env, sessions, rules) -> None:
    http, queue = lonely
    status, worker_check = await ready(http)
    assert status == 503 and "no worker" in worker_check
    assert (await http.get("/healthz")).status_code == 200  # alive all the same

    worker = worker_module.build_worker(
        dev_env.client, task_queue=queue, sessions=sessions, rules=rules, ticketing=TICKETING
    )
    running = asyncio.create_task(worker.run())
    alive = asyncio.create_task(heartbeat(sessions, worker, queue, name=queue, every=0.2))
    for _ in range(50):
        if (await ready(http))[0] == 200:
            break
        await asyncio.sleep(0.1)
    assert await ready(http) == (200, "ok")

    alive.cancel()  # a worker that stops takes its sign of life with it
    await asyncio.gather(alive, return_exceptions=True)
    await worker.shutdown()
    await running
    assert (await ready(http))[0] == 503

    # A worker killed outright leaves its last sign of life: stale after the silence.
    async with transaction(sessions) as session:
        await beat(session, "killed:1", queue, datetime.now(UTC) - timedelta(seconds=3))
    assert (await ready(http))[0] == 503
    async with transaction(sessions) as session:
        await beat(session, "killed:1", queue, datetime.now(UTC))
    assert (await ready(http))[0] == 200
    await asyncio.sleep(2.5)
    assert (await ready(http))[0] == 503
