"""The FastAPI application: routers under /api/v1, problem+json errors, one client each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from fastapi_offline import FastAPIOffline
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

import console
from api import openapi, problems
from api.audit import AuditWriter
from api.deps import known_query
from api.login_guard import LoginGuard
from api.observe import Observe
from api.routes import (
    admin,
    audit,
    auth,
    customer_duplicates,
    customer_merges,
    customer_offers,
    customer_privacy,
    customer_profile,
    customers,
    deal_events,
    deal_tasks,
    deals,
    files,
    health,
    imports,
    intake,
    interactions,
    notifications,
    request_actions,
    requests,
    supervisor,
    supervisor_sla,
    tokens,
    webhooks,
)
from api.state import AppState, ForecastCache
from caseflow.customers import matching, segments, survivorship
from caseflow.deals.pipelines import PipelineTerms
from caseflow.deals.pipelines import load as load_pipelines
from caseflow.mail import topic_rules
from caseflow.platform.db import make_engine, make_sessionmaker
from caseflow.platform.settings import Settings, get_settings
from caseflow.platform.temporal import connect
from caseflow.requests.topics import book_beside
from caseflow.sla import policies as sla
from caseflow.sla.calendar import BusinessCalendar
from caseflow.tickets.connectors import Ticketing
from caseflow.tickets.connectors import load as load_ticketing


def sla_calendars(settings: Settings) -> dict[str, BusinessCalendar]:
    """The SLA calendars, for forecasts in business time; none if the policies are missing."""
    directory = settings.routing_rules_dir / "sla"
    return sla.load(directory).calendars if directory.is_dir() else {}


def pipeline_terms(settings: Settings) -> dict[str, PipelineTerms]:
    """The deal pipelines the worker runs (same files), so a deal for an unknown one, or
    one that sets approval fields by hand, is refused before any workflow starts."""
    rules = settings.routing_rules_dir
    if not (rules / "pipelines").is_dir() or not (rules / "sla").is_dir():
        return {}
    return load_pipelines(rules / "pipelines", sla.load(rules / "sla"))


def create_app(
    settings: Settings | None = None,
    *,
    temporal: Client | None = None,
    engine: AsyncEngine | None = None,
    ticketing: Ticketing | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    connectors = ticketing or load_ticketing(settings.ticketing_file)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_engine = engine or make_engine(settings.database_url)
        client = temporal or await connect(settings)
        sessions = make_sessionmaker(own_engine)
        topic_book = book_beside(settings.routing_rules_dir)
        writer = AuditWriter(sessions) if settings.audit else None
        if writer is not None:
            writer.start()
        app.state.caseflow = AppState(
            settings,
            own_engine,
            sessions,
            client,
            sla_calendars(settings),
            ForecastCache(settings.forecast_ttl),
            topic_book,
            connectors,
            pipelines=pipeline_terms(settings),
            survivorship=survivorship.load(
                settings.routing_rules_dir / "profile" / "survivorship.yaml"
            ),
            matching=matching.load(settings.routing_rules_dir / "profile" / "matching.yaml"),
            catalogue=segments.load(settings.routing_rules_dir / "profile"),
            mail_topics=topic_rules.load(
                settings.routing_rules_dir / "mail" / topic_rules.FILE, topic_book
            ),
            login_guard=LoginGuard(
                per_user=settings.login_failures_per_user,
                per_address=settings.login_failures_per_address,
            ),
            audit=writer,
        )
        yield
        if writer is not None:
            await writer.close()
        if engine is None:
            await own_engine.dispose()

    # Swagger UI and ReDoc from the package's own files: contact centres run without internet.
    app = FastAPIOffline(
        title="Caseflow",
        version="0.1.0",
        lifespan=lifespan,
        description="Customer requests and deals as durable Temporal workflows.",
    )
    problems.install(app)

    app.add_middleware(Observe)

    v1 = APIRouter(prefix="/api/v1", dependencies=[Depends(known_query)])
    for router in (
        auth.router,
        customers.router,
        customer_profile.router,
        customer_duplicates.router,
        customer_merges.router,
        customer_privacy.router,
        customer_offers.router,
        imports.router,
        files.router,  # before requests': `/requests/{id}/files` is not an action
        request_actions.router,
        requests.router,
        supervisor.router,
        supervisor_sla.router,
        notifications.router,
        intake.router,
        interactions.router,
        deal_events.router,
        deal_tasks.router,
        deals.router,
        webhooks.router,
        admin.router,
        tokens.router,
        audit.router,
    ):
        v1.include_router(router)
    app.include_router(v1)
    app.include_router(health.router)
    # The console, the browser edge, at `/` (its routes are not in the API's document).
    console.install(app, settings)
    app.openapi = lambda: openapi.document(app)  # type: ignore[method-assign]
    return app
