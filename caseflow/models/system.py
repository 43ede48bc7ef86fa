"""Installation-wide state: number sequences, the live rule set, idempotency keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from caseflow.models.base import Base, UtcDateTime, utcnow


class Counter(Base):
    """Gapless per-installation sequences (request numbers): bumped in the inserting transaction."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class JobCheckpoint(Base):
    """Where a long job over many records stopped: run again, it goes on from there."""

    __tablename__ = "job_checkpoints"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[str | None] = mapped_column(String(200))
    done: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


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
