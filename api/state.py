"""What the app holds for its lifetime: settings, one pooled engine, one Temporal client."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.audit import AuditWriter
from api.login_guard import LoginGuard
from caseflow.customers import survivorship
from caseflow.customers.matching import Matching
from caseflow.customers.segments import Catalogue
from caseflow.customers.survivorship import Survivorship
from caseflow.deals.pipelines import PipelineTerms
from caseflow.mail.topic_rules import TopicRule
from caseflow.platform.settings import Settings
from caseflow.requests.topics import TopicBook
from caseflow.sla.calendar import BusinessCalendar
from caseflow.sla.reports import Forecast, forecast
from caseflow.tickets import store as tickets
from caseflow.tickets.connectors import Ticketing


class ForecastCache:
    """The SLA forecast is a few aggregates over the read model: computed once per TTL."""

    def __init__(self, ttl: timedelta) -> None:
        self.ttl = ttl
        self.value: Forecast | None = None
        self.at: datetime | None = None

    async def get(self, db: AsyncSession, now: datetime) -> Forecast:
        if self.value is None or self.at is None or now - self.at >= self.ttl:
            self.value, self.at = await forecast(db, now), now
        return self.value


class TicketLinks:
    """Which request a ticket belongs to: written once, never changed, so kept in memory
    after the first lookup (a link not written yet is looked up again next time)."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self.known: dict[tuple[str, str], tuple[str, str]] = {}

    async def get(self, db: AsyncSession, connector: str, ticket_id: str) -> tuple[str, str] | None:
        """(request id, workflow id) of the ticket, or None."""
        key = (connector, ticket_id)
        if key not in self.known:
            row = await tickets.linked(db, connector, ticket_id)
            if row is None:
                return None
            if len(self.known) >= self.size:
                self.known.clear()
            self.known[key] = (row.request_id, row.workflow_id)
        return self.known[key]


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    temporal: Client
    calendars: dict[str, BusinessCalendar] = field(default_factory=dict)
    forecasts: ForecastCache = field(default_factory=lambda: ForecastCache(timedelta(0)))
    topics: TopicBook = field(default_factory=lambda: TopicBook(topics={}))
    ticketing: Ticketing = field(default_factory=lambda: Ticketing([]))
    links: TicketLinks = field(default_factory=TicketLinks)
    pipelines: dict[str, PipelineTerms] = field(default_factory=dict)
    survivorship: Survivorship = field(default_factory=lambda: survivorship.DEFAULT)
    matching: Matching = field(default_factory=Matching)
    catalogue: Catalogue = field(default_factory=Catalogue)
    mail_topics: list[TopicRule] = field(default_factory=list)
    audit: AuditWriter | None = None
    login_guard: LoginGuard = field(
        default_factory=lambda: LoginGuard(per_user="5/minute", per_address="30/minute")
    )
