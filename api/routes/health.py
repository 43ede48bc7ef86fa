"""Liveness, readiness and metrics."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from api.deps import State
from api.problems import Problem
from caseflow.platform import workers

router = APIRouter(tags=["operations"])


@router.get("/healthz", operation_id="healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", operation_id="readyz")
async def readyz(state: State) -> dict[str, str]:
    """Ready: the database answers, Temporal answers, and a worker polls the task queue."""
    checks: dict[str, str] = {}
    try:
        async with state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready, with the reason shown
        checks["database"] = f"down: {type(exc).__name__}"
    try:
        await state.temporal.service_client.check_health()
        checks["temporal"] = "ok"
    except Exception as exc:
        checks["temporal"] = f"down: {type(exc).__name__}"
    # Intake waits for a worker: without one polling the task queue, nothing gets registered.
    queue, silence = state.settings.task_queue, state.settings.worker_silence
    try:
        async with state.sessions() as session:
            heard = await workers.heard_from(session, queue, silence)
        checks["worker"] = (
            "ok"
            if heard
            else f"down: no worker of '{queue}' heard from in {silence.total_seconds():.0f} s"
        )
    except Exception as exc:
        checks["worker"] = f"down: {type(exc).__name__}"
    if any(v != "ok" for v in checks.values()):
        raise Problem(503, "not_ready", "a dependency is down", checks=checks)
    return {"status": "ready", **checks}


@router.get("/metrics", operation_id="metrics", include_in_schema=False)
async def metrics(request: Request, state: State) -> Response:
    """For the scraper that holds CASEFLOW_METRICS_TOKEN; off when no token is set."""
    token = state.settings.metrics_token
    if token is None:
        raise Problem(404, "not_found", "metrics are off: set CASEFLOW_METRICS_TOKEN")
    given = request.headers.get("authorization", "")
    wanted = f"Bearer {token.get_secret_value()}"
    if not hmac.compare_digest(given.encode(), wanted.encode()):
        raise Problem(401, "unauthorized", "metrics need the scraper's bearer token")
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
