"""Waiting for a worker, but not forever: what an intake or an action answers when no worker
confirms it within CASEFLOW_INTAKE_DEADLINE (a worker restarting, Temporal slow)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, TypeVar

from fastapi.responses import JSONResponse
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.service import RPCError
from temporalio.workflow import UpdateMethodMultiParam

from api.problems import Problem

RETRY_AFTER = 5  # seconds

Workflow = TypeVar("Workflow")
Arg = TypeVar("Arg")
Answer = TypeVar("Answer")


async def update_with_start(
    temporal: Client,
    update: UpdateMethodMultiParam[[Workflow, Arg], Answer],
    arg: Arg,
    operation: WithStartWorkflowOperation[Workflow, Any],
    deadline: timedelta,
) -> Answer:
    """Start-or-join the workflow and run its update, waiting no longer than the deadline
    (TimeoutError then). The start's own outcome is always read, so a start cut short by the
    deadline is not logged as "Future exception was never retrieved"."""
    started = asyncio.ensure_future(operation.workflow_handle())
    started.add_done_callback(_read_outcome)
    try:
        return await asyncio.wait_for(
            temporal.execute_update_with_start_workflow(
                update, arg, start_workflow_operation=operation
            ),
            timeout=deadline.total_seconds(),
        )
    finally:
        started.cancel()  # the start's outcome is known by now: this only reads it


def _read_outcome(started: asyncio.Future[Any]) -> None:
    if not started.cancelled():
        started.exception()


async def accepted(
    temporal: Client, workflow_id: str, record_id: str, location: str, deadline: timedelta
) -> JSONResponse:
    """202 if the workflow exists (it goes on as soon as a worker comes; the same
    Idempotency-Key then answers 201 with the record), 503 with Retry-After if not even that
    is known."""
    try:
        await temporal.get_workflow_handle(workflow_id).describe(
            rpc_timeout=timedelta(seconds=0.5)  # the answer stays within the deadline + 1 s
        )
    except (RPCError, TimeoutError) as exc:
        raise Problem(
            503,
            "unavailable",
            "not registered in time; send it again with the same Idempotency-Key",
            retry_after=RETRY_AFTER,
        ) from exc
    body = {
        "id": record_id,
        "workflow_id": workflow_id,
        "state": "registering",
        "detail": f"accepted; no worker confirmed it within {deadline.total_seconds():.0f} s. "
        "Send it again with the same Idempotency-Key for the registered record (201).",
    }
    return JSONResponse(body, status_code=202, headers={"Location": location})


def unconfirmed(deadline: timedelta) -> Problem:
    """An action no worker confirmed in time: it may still happen, once a worker comes."""
    return Problem(
        503,
        "unconfirmed",
        f"no worker confirmed the action within {deadline.total_seconds():.0f} s; it may yet "
        "take effect. Send it again with the same Idempotency-Key: it happens once.",
        retry_after=RETRY_AFTER,
    )
