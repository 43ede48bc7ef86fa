"""Live changes by Server-Sent Events: a case page hears when its request moved, a queue
page when any request did (it then asks for its rows again, filtered by the access policy).

A case page also says who else has it open (Zammad's collision detection): each open page
refreshes its row in `case_viewers` while its stream runs.

Both read the read model's projection, which every workflow step writes before it answers:
the request's `last_seq`, and the newest event's id. On PostgreSQL they look when the
change feed (`console/feed.py`, LISTEN/NOTIFY) wakes them; on SQLite every second.
"""

from __future__ import annotations

import contextlib
import time
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
from console.feed import FALLBACK, ChangeFeed, wake
from console.session import ConsoleUser

router = APIRouter(include_in_schema=False)
PING = 15  # seconds between keep-alive comments (proxies close silent streams)
EVERY = 1.0  # seconds between two looks at the read model when nothing announces changes
PRESENCE_EVERY = 5.0  # seconds between two "I am here" of an open case page


async def changes(
    request: Request,
    sessions: async_sessionmaker[AsyncSession],
    feed: ChangeFeed,
    mark: Callable[[AsyncSession], Awaitable[Any]],
    topic: str | None = None,
) -> AsyncIterator[dict[str, str]]:
    """A `changed` event each time `mark` reads something new or the feed announces `topic`
    (see `ChangeFeed.watch`); ends when the browser goes."""
    async with feed.watch(topic) as woken:
        async with sessions() as session:
            last = await mark(session)
        again = False  # a step's SLA ledger is written just after it and moves no mark
        while not await request.is_disconnected():
            told = await wake(woken, FALLBACK if feed.live else EVERY)
            async with sessions() as session:
                now = await mark(session)
            if told or again or now != last:
                again, last = now != last, now  # after a new step, one look more
                yield {"event": "changed", "data": str(now)}


async def case_changes(
    request: Request,
    sessions: async_sessionmaker[AsyncSession],
    feed: ChangeFeed,
    request_id: str,
    username: str,
) -> AsyncIterator[dict[str, str]]:
    """`changed` when the request moves; `presence` (a line of HTML) when the others who
    have it open change. This page counts as open while the stream runs."""
    version: Any = None
    people: list[str] | None = None
    due = 0.0  # when this page next says "I am here"
    told = False  # the feed said this request changed (its step or its SLA ledger)
    try:
        async with feed.watch(request_id) as woken:
            while not await request.is_disconnected():
                now = datetime.now(UTC)
                async with sessions() as session:
                    seen = await session.scalar(
                        select(RequestRow.last_seq).where(RequestRow.id == request_id)
                    )
                    others = people or []
                    if time.monotonic() >= due:
                        due = time.monotonic() + PRESENCE_EVERY
                        try:
                            await presence.here(session, request_id, username, now)
                            await session.commit()
                        except IntegrityError:  # the same person's other tab, this moment
                            await session.rollback()
                        others = await presence.others(session, request_id, username, now)
                if version is not None and (told or seen != version):
                    yield {"event": "changed", "data": str(seen)}
                version = seen
                if others != people:
                    people = others
                    yield {"event": "presence", "data": str(presence_line(others))}
                told = await wake(woken, PRESENCE_EVERY if feed.live else EVERY)
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
    feed: ChangeFeed = request.app.state.console_feed
    stream = case_changes(request, app.sessions, feed, row.id, user.username)
    return EventSourceResponse(stream, ping=PING)


@router.get("/queue/live")
async def queue_live(
    request: Request, db: DbSession, user: ConsoleUser, app: State
) -> EventSourceResponse:
    await db.close()

    async def newest(session: AsyncSession) -> Any:
        return await session.scalar(select(func.max(RequestEvent.id)))

    feed: ChangeFeed = request.app.state.console_feed
    return EventSourceResponse(changes(request, app.sessions, feed, newest), ping=PING)
