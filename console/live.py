"""Live changes by Server-Sent Events: a case page hears when its request moved, a queue
page when any request did (it then asks for its rows again, filtered by the access policy).

Both read the read model's projection, which every workflow step writes before it answers:
the request's `last_seq`, and the newest event's id. (Polling each second on SQLite and
PostgreSQL alike; PostgreSQL's LISTEN/NOTIFY would spare the polls.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sse_starlette import EventSourceResponse
from starlette.requests import Request

from api.deps import DbSession, State
from caseflow import access
from caseflow.models import Request as RequestRow
from caseflow.models import RequestEvent
from console.session import ConsoleUser

router = APIRouter(include_in_schema=False)
EVERY = 1.0  # seconds between two looks at the read model
PING = 15  # seconds between keep-alive comments (proxies close silent streams)


async def changes(
    request: Request,
    sessions: async_sessionmaker[AsyncSession],
    mark: Callable[[AsyncSession], Awaitable[Any]],
) -> AsyncIterator[dict[str, str]]:
    """A `changed` event each time `mark` reads something new; ends when the browser goes."""
    async with sessions() as session:
        last = await mark(session)
    while not await request.is_disconnected():
        await asyncio.sleep(EVERY)
        async with sessions() as session:
            now = await mark(session)
        if now != last:
            last = now
            yield {"event": "changed", "data": str(now)}


@router.get("/cases/{request_id}/live")
async def case_live(
    request: Request,
    request_id: Annotated[str, Path(max_length=64)],
    db: DbSession,
    user: ConsoleUser,
    app: State,
) -> EventSourceResponse:
    row = await access.request(db, user, request_id)  # not visible: 404, no stream
    await db.close()  # the stream holds no connection between looks

    async def version(session: AsyncSession) -> Any:
        return await session.scalar(select(RequestRow.last_seq).where(RequestRow.id == row.id))

    return EventSourceResponse(changes(request, app.sessions, version), ping=PING)


@router.get("/queue/live")
async def queue_live(
    request: Request, db: DbSession, user: ConsoleUser, app: State
) -> EventSourceResponse:
    await db.close()

    async def newest(session: AsyncSession) -> Any:
        return await session.scalar(select(func.max(RequestEvent.id)))

    return EventSourceResponse(changes(request, app.sessions, newest), ping=PING)
