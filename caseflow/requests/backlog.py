"""Each queue's backlog as a supervisor sees it: open requests, nobody on them, how long the
oldest has waited, how many have a breached SLA clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.models import Request, SlaClock, UtcDateTime
from caseflow.requests.lifecycle import OPEN_STATES


@dataclass(frozen=True)
class Backlog:
    queue: str | None
    open: int
    unassigned: int
    oldest_unassigned_at: datetime | None
    breached: int


async def backlog(
    session: AsyncSession, visible: ColumnElement[bool], queues: Sequence[str] = ()
) -> list[Backlog]:
    """Per queue, over the open requests `visible` lets through; `queues` listed even when
    empty (a zone's teams)."""
    breached = (
        select(SlaClock.request_id)
        .where(SlaClock.request_open.is_(True), SlaClock.breached_at.is_not(None))
        .distinct()
        .scalar_subquery()
    )
    waiting = Request.assignee.is_(None)
    rows = await session.execute(
        select(
            Request.queue,
            func.count(),
            func.count(case((waiting, 1))),
            type_coerce(func.min(case((waiting, Request.created_at))), UtcDateTime()),
            func.count(case((Request.id.in_(breached), 1))),
        )
        .where(Request.state.in_([s.value for s in OPEN_STATES]), visible)
        .group_by(Request.queue)
    )
    found: dict[Any, Backlog] = {
        queue: Backlog(queue, total, unassigned, oldest, late)
        for queue, total, unassigned, oldest, late in rows
    }
    for queue in queues:
        found.setdefault(queue, Backlog(queue, 0, 0, None, 0))
    return sorted(found.values(), key=lambda b: (-b.unassigned, b.queue or ""))
