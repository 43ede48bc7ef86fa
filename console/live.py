"""Live changes by Server-Sent Events: a case page hears when its request moved, a queue
page when any request did (it then asks for its rows again, filtered by the access policy).

A case page also says who else has it open (Zammad's collision detection): each open page
refreshes its row in `case_viewers` while its stream runs.

Both read the read model's projection, which every workflow step writes before it answers:
the request's `last_seq`, and the newest event's id. (Polling each second on SQLite and
PostgreSQL alike; PostgreSQL's LISTEN/NOTIFY would spare the polls.)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Path
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sse_starlette import EventSourceResponse
from starlette.requests import Request

from api.deps import DbSession, State
from caseflow import access
from caseflow.models import Request as RequestRow
from caseflow.models import RequestEvent
from caseflow.requests import presence
from console.session import ConsoleUser

router = APIRouter(include_in_schema=False)
EVERY = 1.0  # seconds between two looks at the read model
PING = 15  # seconds between keep-alive comments (proxies close silent streams)
PRESENCE_EVERY = 5  # looks between two "I am here" of an open case page


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


async def case_changes(
    request: Request,
    sessions: async_sessionmaker[AsyncSession],
    request_id: str,
    username: str,
) -> AsyncIterator[dict[str, str]]:
    """`changed` when the request moves; `presence` (a line of HTML) when the others who
    have it open change. This page counts as open while the stream runs."""
    version: Any = None
    people: list[str] | None = None
    turn = 0
    try:
        while not await request.is_disconnected():
            now = datetime.now(UTC)
            async with sessions() as session:
                seen = await session.scalar(
                    select(RequestRow.last_seq).where(RequestRow.id == request_id)
                )
                if turn % PRESENCE_EVERY == 0:
                    try:
                        await presence.here(session, request_id, username, now)
                        await session.commit()
                    except IntegrityError:  # the same person's other tab, this very moment
                        await session.rollback()
                    others = await presence.others(session, request_id, username, now)
                else:
                    others = people or []
            if version is not None and seen != version:
                yield {"event": "changed", "data": str(seen)}
            version = seen
            if others != people:
                people = others
                yield {"event": "presence", "data": str(presence_line(others))}
            turn += 1
            await asyncio.sleep(EVERY)
    finally:
        # The stream is being cancelled: shielded, or the cleanup would be cancelled too.
        with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
            async with sessions() as session:  # best effort: rows expire by themselves anyway
                await presence.gone(session, request_id, username)
                await session.commit()


def presence_line(names: list[str]) -> Markup:
    if not names:
        return Markup("")
    return Markup("Also here now: <strong>{}</strong>").format(", ".join(names))


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
    stream = case_changes(request, app.sessions, row.id, user.username)
    return EventSourceResponse(stream, ping=PING)


@router.get("/queue/live")
async def queue_live(
    request: Request, db: DbSession, user: ConsoleUser, app: State
) -> EventSourceResponse:
    await db.close()

    async def newest(session: AsyncSession) -> Any:
        return await session.scalar(select(func.max(RequestEvent.id)))

    return EventSourceResponse(changes(request, app.sessions, newest), ping=PING)
