"""People, teams and their signs of life: who works which queue, with what capacity."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from caseflow.models.base import Base, UtcDateTime, utcnow


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
    # Working hours (caseflow.people.schedule.WorkSchedule); none: always on shift.
    schedule: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    zone_teams: Mapped[list[str]] = mapped_column(JSON, default=list)
    zone_regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Wrong passwords since the last right one; past the limit the account is locked until
    # an admin lifts it.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The language the console speaks to them (ru, en); none: the deployment's default.
    locale: Mapped[str | None] = mapped_column(String(8))


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


class Absence(Base):
    """A planned absence (leave, training): the person is not assigned work while it lasts."""

    __tablename__ = "absences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")


class WorkerBeat(Base):
    """A worker's sign of life, written every few seconds while it polls its task queue:
    readiness says whether any worker serves the queue."""

    __tablename__ = "worker_beats"

    name: Mapped[str] = mapped_column(String(200), primary_key=True, doc="host:pid")
    task_queue: Mapped[str] = mapped_column(String(200), index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    beat_at: Mapped[datetime] = mapped_column(UtcDateTime)
