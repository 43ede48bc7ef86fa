"""E-mail that came in: each message once, by its Message-ID (or the hash of its bytes when
it has none), its bytes kept content-addressed in `files`, and what became of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from caseflow.models.base import Base, UtcDateTime, utcnow


class InboundMessage(Base):
    __tablename__ = "inbound_messages"
    __table_args__ = (Index(None, "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_key: Mapped[str] = mapped_column(String(255), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    via: Mapped[str] = mapped_column(String(64), doc="lmtp | smtp | imap:<mailbox>")
    mail_from: Mapped[str] = mapped_column(String(320))
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(String(500), default="")
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(
        String(16), doc="received | registered | replied | noted | ignored | failed"
    )
    kind: Mapped[str | None] = mapped_column(
        String(16), doc="new | reply | automatic | bounce | unreadable"
    )
    request_id: Mapped[str | None] = mapped_column(String(36), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    filed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
