"""Who else has a request open: each open page says so every few seconds; a viewer not
heard from for `FRESH` is gone (a closed tab, a lost connection)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.models import CaseViewer, User

FRESH = timedelta(seconds=20)


async def here(session: AsyncSession, request_id: str, username: str, at: datetime) -> None:
    row = await session.get(CaseViewer, (request_id, username))
    if row is None:
        session.add(CaseViewer(request_id=request_id, username=username, seen_at=at))
    else:
        row.seen_at = at


async def gone(session: AsyncSession, request_id: str, username: str) -> None:
    await session.execute(
        delete(CaseViewer).where(
            CaseViewer.request_id == request_id, CaseViewer.username == username
        )
    )


async def others(session: AsyncSession, request_id: str, username: str, at: datetime) -> list[str]:
    """The full names of the others who have it open now, in name order."""
    names = await session.scalars(
        select(User.full_name)
        .join(CaseViewer, CaseViewer.username == User.username)
        .where(
            CaseViewer.request_id == request_id,
            CaseViewer.username != username,
            CaseViewer.seen_at >= at - FRESH,
        )
        .order_by(User.full_name)
    )
    return list(names)
