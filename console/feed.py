"""Changes of requests and deals as they happen: one PostgreSQL `LISTEN caseflow_requests`
connection per process while anyone watches (migration 0016 announces every recorded step of
a request with its id, migration 0017 every change of a deal as `deal:<id>`), waking the
watchers of that request or deal, of every request (`None`) or of every deal (`ANY_DEAL`).
Without PostgreSQL (SQLite), or while the connection is down, watchers wake on their own
every few seconds and look for themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import psycopg

CHANNEL = "caseflow_requests"
DEAL = "deal:"
ANY_DEAL = "deal:*"
FALLBACK = 5.0  # seconds a watcher waits for a wake-up before it looks anyway
log = logging.getLogger(__name__)


class ChangeFeed:
    def __init__(self, conninfo: str | None) -> None:
        self.conninfo = conninfo  # None: no notifications here (SQLite)
        self.watchers: dict[asyncio.Event, str | None] = {}
        self.task: asyncio.Task[None] | None = None

    @classmethod
    def for_database(cls, url: str) -> ChangeFeed:
        if not url.startswith("postgresql"):
            return cls(None)
        return cls("postgresql://" + url.split("://", 1)[1])

    @property
    def live(self) -> bool:
        return self.conninfo is not None

    @contextlib.asynccontextmanager
    async def watch(self, topic: str | None = None) -> AsyncIterator[asyncio.Event]:
        """An event set when `topic` changes — a request's id, `deal:<id>`, None for any
        request, `ANY_DEAL` for any deal; clear it after use."""
        woken = asyncio.Event()
        self.watchers[woken] = topic
        if self.live and (self.task is None or self.task.done()):
            self.task = asyncio.create_task(self._listen())
        try:
            yield woken
        finally:
            del self.watchers[woken]
            if not self.watchers and self.task is not None:
                self.task.cancel()  # nobody watches: the connection closes as it stops
                self.task = None

    async def _listen(self) -> None:
        assert self.conninfo is not None
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    async for notice in conn.notifies():
                        for woken, wanted in list(self.watchers.items()):
                            if concerns(wanted, notice.payload):
                                woken.set()
            except (psycopg.Error, OSError) as exc:  # down: watchers look by themselves
                log.warning("change feed: %s; listening again in %s s", exc, FALLBACK)
                await asyncio.sleep(FALLBACK)


def concerns(wanted: str | None, payload: str) -> bool:
    """Whether a watcher of `wanted` hears an announcement of `payload`."""
    deal = payload.startswith(DEAL)
    if wanted is None:
        return not deal
    return wanted == payload or (wanted == ANY_DEAL and deal)


async def wake(woken: asyncio.Event, within: float) -> bool:
    """Until the event is set (True: something changed) or `within` seconds pass (False:
    look for yourself); the event is cleared again."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(woken.wait(), timeout=within)
    told = woken.is_set()
    woken.clear()
    return told
