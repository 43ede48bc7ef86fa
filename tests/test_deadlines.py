"""Bounded waits: with no worker, an intake answers 202 "registering" within the deadline and
the same Idempotency-Key later answers 201 with the request; an action nobody confirms
answers 503 with Retry-After, and its retry with the same key happens once."""

from __future__ import annotations

import asyncio
import gc
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest_asyncio

import worker as worker_module
from api.app import create_app
from tests.conftest import TICKETING
from tests.helpers import ROMASHKA
from tests.test_deals_api import company_of

DEADLINE = timedelta(seconds=1)


@pytest_asyncio.fixture
async def lonely(settings, engine, dev_env, tokens) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """An API whose task queue no worker serves yet, waiting at most a second."""
    queue = f"deadline-{uuid.uuid4().hex}"
    mine = settings.model_copy(update={"task_queue": queue, "intake_deadline": DEADLINE})
    app = create_app(mine, temporal=dev_env.client, engine=engine, ticketing=TICKETING)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client, queue


@asynccontextmanager
async def serving(dev_env, queue: str, sessions, rules) -> AsyncIterator[None]:
    worker = worker_module.build_worker(
        dev_env.client, task_queue=queue, sessions=sessions, rules=rules, ticketing=TICKETING
    )
    async with worker:
        yield


BODY = {
    "customer_id": ROMASHKA,
    "channel": "phone",
    "topic": "consultation",
    "subject": "Без воркера",
    "description": "Зарегистрируется, когда воркер вернётся",
}


def deal_body(customer: str) -> dict:
    return {"customer_id": customer, "pipeline": "b2b", "title": "Без воркера", "amount": 1e5}


async def test_intake_and_actions_wait_no_longer_than_the_deadline(
    lonely, dev_env, sessions, rules, tokens
) -> None:
    http, queue = lonely
    headers = {**tokens["operator"], "Idempotency-Key": f"k-{uuid.uuid4()}"}
    began = time.monotonic()
    first = await http.post("/api/v1/requests", json=BODY, headers=headers)
    waited = time.monotonic() - began
    assert first.status_code == 202, first.text
    assert waited < DEADLINE.total_seconds() + 3
    assert first.json()["state"] == "registering"
    rid = first.json()["id"]
    assert first.headers["Location"] == f"/api/v1/requests/{rid}"

    async with serving(dev_env, queue, sessions, rules):
        again = await http.post("/api/v1/requests", json=BODY, headers=headers)
        assert again.status_code == 201, again.text
        assert again.json()["id"] == rid and again.json()["number"].startswith("REQ-")
        holder = again.json()["assignee"]
    assert holder in tokens

    step = {**tokens[holder], "Idempotency-Key": f"s-{uuid.uuid4()}"}
    began = time.monotonic()
    unconfirmed = await http.post(f"/api/v1/requests/{rid}/start", headers=step)
    assert unconfirmed.status_code == 503, unconfirmed.text
    assert unconfirmed.headers["Retry-After"] == "5"
    assert time.monotonic() - began < DEADLINE.total_seconds() + 3
    async with serving(dev_env, queue, sessions, rules):
        retried = await http.post(f"/api/v1/requests/{rid}/start", headers=step)
        assert retried.status_code == 200, retried.text
        assert retried.json()["state"] == "in_progress"
        for _ in range(50):
            events = await http.get(f"/api/v1/requests/{rid}/events", headers=tokens[holder])
            started = [e for e in events.json()["items"] if e["action"] == "start"]
            if started:
                break
            await asyncio.sleep(0.1)
        assert len(started) == 1  # the first call and its retry: one start
        done = await http.post(
            f"/api/v1/requests/{rid}/cancel", json={"reason": "тест"}, headers=tokens["admin"]
        )
        assert done.status_code == 200, done.text


async def test_an_intake_past_the_deadline_leaves_no_unretrieved_error(lonely, tokens) -> None:
    """The start's outcome is read even when the deadline cut the call short: nothing logs
    "Future exception was never retrieved" (as the API did under the fault test)."""
    http, _ = lonely
    loop, leftovers = asyncio.get_running_loop(), list[str]()
    before = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: leftovers.append(context["message"]))
    try:
        headers = {**tokens["operator"], "Idempotency-Key": f"k-{uuid.uuid4()}"}
        first = await http.post("/api/v1/requests", json=BODY, headers=headers)
        assert first.status_code == 202, first.text
        customer = await company_of(http, tokens)
        headers = {**tokens["manager"], "Idempotency-Key": f"d-{uuid.uuid4()}"}
        deal = await http.post("/api/v1/deals", json=deal_body(customer), headers=headers)
        assert deal.status_code == 202, deal.text
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(before)
    assert leftovers == []
