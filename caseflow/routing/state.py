"""The live rule set's version, shared by every API and worker process through the database."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.models import RoutingState

LIVE_VERSION = select(RoutingState.version).where(RoutingState.id == 1)


async def live_version(session: AsyncSession) -> int:
    version = await session.scalar(LIVE_VERSION)
    return int(version or 1)


async def bump(session: AsyncSession, *, by: str) -> int:
    """Mark the files on disk as the live rule set; workers pick them up on their next decision."""
    result = await session.execute(
        update(RoutingState)
        .where(RoutingState.id == 1)
        .values(version=RoutingState.version + 1, reloaded_at=datetime.now(UTC), reloaded_by=by)
        .returning(RoutingState.version)
    )
    return int(result.scalar_one())
