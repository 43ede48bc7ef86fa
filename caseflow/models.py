"""The read model and reference data: SQLAlchemy 2 tables, written by activities and the API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, validates
from sqlalchemy.types import TypeDecorator

from caseflow.identity import search_key

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite forgets the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Team(Base):
    __tablename__ = "teams"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    line: Mapped[str] = mapped_column(String(16))
    region: Mapped[str | None] = mapped_column(String(64))
    # Username of the agent last picked among equals: round-robin survives restarts and workers.
    rr_cursor: Mapped[str | None] = mapped_column(String(64))
    # When someone goes away, their requests not yet started go back to the queue.
    requeue_when_away: Mapped[bool] = mapped_column(Boolean, default=False)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    team_code: Mapped[str | None] = mapped_column(ForeignKey("teams.code"))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # available | away | off: what the person said; absences below are what was planned.
    availability: Mapped[str] = mapped_column(String(16), default="available")
    capacity: Mapped[int] = mapped_column(Integer, default=20)
    # Skill name → level 1..5.
    skills: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # Working hours (caseflow.schedule.WorkSchedule); none: always on shift.
    schedule: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    zone_teams: Mapped[list[str]] = mapped_column(JSON, default=list)
    zone_regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Wrong passwords since the last right one; past the limit the account is locked until
    # an admin lifts it.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ApiToken(Base):
    """A long-lived integration token, by its id (`jti`): listed, and revoked one by one."""

    __tablename__ = "api_tokens"

    jti: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(32))
    label: Mapped[str | None] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(64))


class AuditEntry(Base):
    """One audited call: who, when, what, which record, from where, with what outcome.
    Chained per day: `hash` covers the entry and the hash before it (`caseflow.audit`)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "day", "seq"), Index(None, "actor", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[str] = mapped_column(String(10))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(8))
    route: Mapped[str] = mapped_column(String(200))
    record_kind: Mapped[str | None] = mapped_column(String(32))
    record_id: Mapped[str | None] = mapped_column(String(100), index=True)
    detail: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditDay(Base):
    """The head of one day's chain: how many entries, the last hash (the day's root), and
    the root of the day before it (the anchor)."""

    __tablename__ = "audit_days"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    root: Mapped[str] = mapped_column(String(64))
    prev_root: Mapped[str] = mapped_column(String(64))


class Absence(Base):
    """A planned absence (leave, training): the person is not assigned work while it lasts."""

    __tablename__ = "absences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(300))
    inn: Mapped[str | None] = mapped_column(String(12), index=True)
    kpp: Mapped[str | None] = mapped_column(String(9))
    # "inn/kpp" for organisations: the unique key that refuses a second profile of one company.
    inn_kpp_key: Mapped[str | None] = mapped_column(String(24), unique=True)
    ogrn: Mapped[str | None] = mapped_column(String(15), unique=True)
    region: Mapped[str] = mapped_column(String(64))
    segment: Mapped[str] = mapped_column(String(32))
    tier: Mapped[str] = mapped_column(String(16))
    personal_manager: Mapped[str | None] = mapped_column(String(64))
    contract_unit: Mapped[str | None] = mapped_column(String(64))
    # prospect | client: a prospect has no contract yet (acquisition routes it).
    status: Mapped[str] = mapped_column(String(16), default="client")
    planned_volume: Mapped[int | None] = mapped_column(Integer)
    account_manager: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(16))
    gender: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))
    # How e-mails address them: formal|informal, the name to use ("Иван Петрович"), and for
    # a company the contact person (whose gender `gender` is).
    address_form: Mapped[str] = mapped_column(String(16), default="formal")
    address_name: Mapped[str | None] = mapped_column(String(200))
    contact_person: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The name as searches compare it (identity.search_key): case-insensitive for Cyrillic on
    # SQLite too, where LOWER() knows only ASCII.
    name_folded: Mapped[str | None] = mapped_column(String(300))

    @validates("name")
    def _fold_name(self, _: str, value: str) -> str:
        self.name_folded = search_key(value)
        return value


class CustomerContact(Base):
    """A normalised phone (E.164) or e-mail (lower case); unique across all customers."""

    __tablename__ = "customer_contacts"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(320))


class Representative(Base):
    """A person who speaks for an organisation, with what they are entitled to."""

    __tablename__ = "representatives"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    # [{topics: [...] (empty: any), disclosure, valid_from, valid_to, document}]
    authorities: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Interaction(Base):
    """A contact with the customer written down by hand: a call, a visit, a letter."""

    __tablename__ = "interactions"
    __table_args__ = (Index(None, "customer_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    channel: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(36))


class Request(Base):
    __tablename__ = "requests"
    __table_args__ = (
        Index(None, "state", "line"),
        Index(None, "queue", "state"),
        Index(None, "assignee", "state"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(64), unique=True)
    seq_no: Mapped[int] = mapped_column(Integer, unique=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    topic: Mapped[str] = mapped_column(String(64))
    subtopic: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    # Hash of the intake body: a reused Idempotency-Key with another body is refused.
    intake_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(32))
    line: Mapped[str] = mapped_column(String(16))
    queue: Mapped[str | None] = mapped_column(String(64))
    assignee: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64), index=True)
    assignment_rule: Mapped[str | None] = mapped_column(String(128))
    assignment_explanation: Mapped[str | None] = mapped_column(Text)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Guided intake: the topic's fields, the calling representative, and whether the caller
    # was entitled to what the topic discloses (if not: unidentified, public answers only).
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The level each field needs (from the topic at intake): readers below it do not see it.
    field_disclosure: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    contact_id: Mapped[int | None] = mapped_column(Integer)
    unidentified: Mapped[bool] = mapped_column(Boolean, default=False)
    disclosure_allowed: Mapped[str] = mapped_column(String(32), default="public")


class RequestEvent(Base):
    __tablename__ = "request_events"
    __table_args__ = (UniqueConstraint("workflow_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(36), index=True)
    workflow_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    line: Mapped[str] = mapped_column(String(16))
    queue: Mapped[str | None] = mapped_column(String(64))
    assignee: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SlaSegment(Base):
    """One stay of a request with a line (or a reopening): the ledger's headings."""

    __tablename__ = "sla_segments"

    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    segment: Mapped[int] = mapped_column(Integer, primary_key=True)
    line: Mapped[str] = mapped_column(String(16))
    policy: Mapped[str] = mapped_column(String(64))
    calendar: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    opened_because: Mapped[str] = mapped_column(String(200))
    stop_reason: Mapped[str | None] = mapped_column(String(200))


RUNNING_CLOCK = "request_open AND stopped_at IS NULL AND breached_at IS NULL"
OPEN_BREACH = "request_open AND breached_at IS NOT NULL"
RESOLVED_CLOCK = "kind = 'resolution' AND stop_reason = 'resolved'"


class SlaClock(Base):
    """One clock of a segment as of the request's last recorded step (`as_of`)."""

    __tablename__ = "sla_clocks"
    __table_args__ = (
        # Lists read these in their order (time, request, segment, kind) and stop at a page.
        Index(
            "ix_sla_clocks_open_breaches",
            "breached_at",
            "request_id",
            "segment",
            "kind",
            postgresql_where=text(OPEN_BREACH),
            sqlite_where=text(OPEN_BREACH),
        ),
        Index(
            "ix_sla_clocks_running_due",
            "due_at",
            "request_id",
            "segment",
            "kind",
            postgresql_where=text(RUNNING_CLOCK),
            sqlite_where=text(RUNNING_CLOCK),
        ),
        # A queue's latest resolutions, for forecasts.
        Index(
            "ix_sla_clocks_resolved",
            "queue",
            "stopped_at",
            postgresql_where=text(RESOLVED_CLOCK),
            sqlite_where=text(RESOLVED_CLOCK),
        ),
        Index(None, "started_at"),
    )

    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    segment: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    line: Mapped[str] = mapped_column(String(16))
    queue: Mapped[str | None] = mapped_column(String(64))
    assignee: Mapped[str | None] = mapped_column(String(64))
    policy: Mapped[str] = mapped_column(String(64))
    calendar: Mapped[str] = mapped_column(String(64))
    target_s: Mapped[int] = mapped_column(Integer)
    elapsed_s: Mapped[int] = mapped_column(Integer, doc="business seconds used by as_of")
    carried_s: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", doc="of that, used on earlier lines"
    )
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    stop_reason: Mapped[str | None] = mapped_column(String(200))
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, doc="null while paused or stopped")
    paused: Mapped[bool] = mapped_column(Boolean)
    pauses: Mapped[list[Any]] = mapped_column(JSON, default=list)
    warned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    request_open: Mapped[bool] = mapped_column(Boolean)
    as_of: Mapped[datetime] = mapped_column(UtcDateTime)
    as_of_seq: Mapped[int] = mapped_column(Integer)


class Notification(Base):
    """The e-mail outbox: written, rendered, before the send; its Message-ID is its key."""

    __tablename__ = "notifications"
    __table_args__ = (Index(None, "status", "created_at"),)

    message_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    recipient_key: Mapped[str] = mapped_column(String(120), index=True)
    recipient: Mapped[str | None] = mapped_column(String(320))
    customer_id: Mapped[str | None] = mapped_column(String(36), index=True)
    request_id: Mapped[str | None] = mapped_column(String(36), index=True)
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    notice_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    importance: Mapped[str] = mapped_column(String(16))
    template: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(400))
    text: Mapped[str | None] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), doc="pending|sent|failed|skipped")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    first_notice_at: Mapped[datetime] = mapped_column(UtcDateTime)
    batched_at: Mapped[datetime] = mapped_column(UtcDateTime, doc="when the notifier sent it off")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Deal(Base):
    """A deal as of its workflow's last step (the live view is a workflow query)."""

    __tablename__ = "deals"
    __table_args__ = (Index(None, "owner", "status"), Index(None, "customer_id", "status"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(64), unique=True)
    pipeline: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    owner: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    amount: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(3))
    stage: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_seq: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DealTask(Base):
    __tablename__ = "deal_tasks"
    __table_args__ = (Index(None, "assignee", "status", "due_at"),)

    deal_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    task_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stage: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    type: Mapped[str] = mapped_column(String(16))
    assignee: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    blocking: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    result: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(300))
    closed_by: Mapped[str | None] = mapped_column(String(64))
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DealEventRow(Base):
    __tablename__ = "deal_events"

    deal_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    stage: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class StoredFileRow(Base):
    """A file's bytes, once, under their SHA-256 (content-addressed)."""

    __tablename__ = "files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(128))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RequestFile(Base):
    """A file attached to a request, in Caseflow or in the external ticket."""

    __tablename__ = "request_files"
    __table_args__ = (UniqueConstraint("request_id", "sha256", "filename"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(36), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("files.sha256"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(32), doc="caseflow or the connector's name")
    added_by: Mapped[str | None] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class TicketLinkRow(Base):
    """Which request an external ticket belongs to: events coming back find their case."""

    __tablename__ = "ticket_links"

    connector: Mapped[str] = mapped_column(String(32), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    number: Mapped[str] = mapped_column(String(64))
    ref: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(String(36), index=True)
    workflow_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class TicketEventRow(Base):
    """An inbound change, recorded once per (connector, event id) before it is applied."""

    __tablename__ = "ticket_events"

    connector: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    order: Mapped[float] = mapped_column(Float)
    change: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    signalled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class TicketPostRow(Base):
    """A Caseflow comment sent to a ticket: its key makes the send happen once."""

    __tablename__ = "ticket_posts"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    connector: Mapped[str] = mapped_column(String(32))
    ticket_id: Mapped[str] = mapped_column(String(64))
    article_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Counter(Base):
    """Gapless per-installation sequences (request numbers): bumped in the inserting transaction."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class WorkerBeat(Base):
    """A worker's sign of life, written every few seconds while it polls its task queue:
    readiness says whether any worker serves the queue."""

    __tablename__ = "worker_beats"

    name: Mapped[str] = mapped_column(String(200), primary_key=True, doc="host:pid")
    task_queue: Mapped[str] = mapped_column(String(200), index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    beat_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RoutingState(Base):
    """Which rule set is live: reloading bumps the version, workers reload when it moves."""

    __tablename__ = "routing_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    reloaded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reloaded_by: Mapped[str | None] = mapped_column(String(64))


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(128), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    body_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
