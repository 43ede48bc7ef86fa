"""The FastAPI application: routers under /api/v1, problem+json errors, one client each."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import Counter, Histogram
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api import problems
from api.problems import Problem, problem_response
from api.routes import auth, customers, health, requests
from api.state import AppState
from caseflow.db import make_engine, make_sessionmaker
from caseflow.settings import Settings, get_settings
from caseflow.temporal import connect

log = logging.getLogger("caseflow.api")

HTTP_REQUESTS = Counter(
    "caseflow_http_requests_total", "HTTP requests", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "caseflow_http_request_seconds", "HTTP request latency", ["method", "route"]
)


def create_app(
    settings: Settings | None = None,
    *,
    temporal: Client | None = None,
    engine: AsyncEngine | None = None,
) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_engine = engine or make_engine(settings.database_url)
        client = temporal or await connect(settings)
        app.state.caseflow = AppState(settings, own_engine, make_sessionmaker(own_engine), client)
        yield
        if engine is None:
            await own_engine.dispose()

    app = FastAPI(
        title="Caseflow",
        version="0.1.0",
        lifespan=lifespan,
        description="Customer requests and deals as durable Temporal workflows.",
    )
    problems.install(app)

    @app.middleware("http")
    async def observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception:
            log.exception("unhandled error", extra={"path": request.url.path})
            response = problem_response(Problem(500, "internal_error", "an internal error"))
        route = getattr(request.scope.get("route"), "path", "unmatched")
        elapsed = time.perf_counter() - started
        HTTP_REQUESTS.labels(request.method, route, response.status_code).inc()
        HTTP_LATENCY.labels(request.method, route).observe(elapsed)
        log.info(
            "http",
            extra={
                "method": request.method,
                "path": request.url.path,
                "status": response.status_code,
                "ms": round(elapsed * 1000, 1),
            },
        )
        return response

    v1 = APIRouter(prefix="/api/v1")
    for router in (auth.router, customers.router, requests.router):
        v1.include_router(router)
    app.include_router(v1)
    app.include_router(health.router)
    return app
