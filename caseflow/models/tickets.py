"""Files and adjacent departments' tickets linked to requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from caseflow.models.base import Base, UtcDateTime, utcnow


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
