"""Requests as the read model holds them: the case, its events, SLA ledger and e-mails."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from caseflow.models.base import Base, UtcDateTime, utcnow

RUNNING_CLOCK = "request_open AND stopped_at IS NULL AND breached_at IS NULL"
OPEN_BREACH = "request_open AND breached_at IS NOT NULL"
RESOLVED_CLOCK = "kind = 'resolution' AND stop_reason = 'resolved'"
OPEN_REQUEST = "state IN ('registered', 'assigned', 'in_progress', 'waiting_customer')"
# What the access policy and the queues test: an open queue is counted and listed from the
# index alone (an index-only scan), not by visiting every open request's row.
VISIBILITY = ["state", "line", "queue", "assignee", "created_by", "customer_id"]


class Request(Base):
    __tablename__ = "requests"
    __table_args__ = (
        Index(None, "state", "line"),
        Index(None, "queue", "state"),
        Index(None, "assignee", "state"),
        Index(
            "ix_requests_open",
            "seq_no",
            postgresql_include=VISIBILITY,
            postgresql_where=text(OPEN_REQUEST),
            sqlite_where=text(OPEN_REQUEST),
        ),
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
    handed_at: Mapped[datetime | None] = mapped_column(
        UtcDateTime, doc="handed to the SMTP server, its answer not yet recorded"
    )


class CaseViewer(Base):
    """Someone has a request's page open (the console's presence): refreshed while the page
    listens for changes, gone when it closes or stops being refreshed."""

    __tablename__ = "case_viewers"

    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
