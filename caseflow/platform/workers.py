"""Workers' signs of life: each running worker writes one every few seconds (and touches its
health file, if it has one); readiness counts the workers heard from lately."""

from __future__ import annotations

import asyncio
import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from caseflow.models import WorkerBeat
from caseflow.platform.db import transaction

EVERY = 5.0  # seconds between signs of life


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def beat(session: AsyncSession, name: str, task_queue: str, at: datetime) -> None:
    row = await session.get(WorkerBeat, name)
    if row is None:
        session.add(WorkerBeat(name=name, task_queue=task_queue, started_at=at, beat_at=at))
    else:
        row.beat_at, row.task_queue = at, task_queue


async def heard_from(session: AsyncSession, task_queue: str, within: timedelta) -> int:
    """How many workers of the queue gave a sign of life within `within`."""
    since = datetime.now(UTC) - within
    found = await session.scalar(
        select(func.count())
        .select_from(WorkerBeat)
        .where(WorkerBeat.task_queue == task_queue, WorkerBeat.beat_at >= since)
    )
    return int(found or 0)


def _touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


async def heartbeat(
    sessions: async_sessionmaker[AsyncSession],
    worker: object,
    task_queue: str,
    *,
    name: str | None = None,
    file: Path | None = None,
    every: float = EVERY,
) -> None:
    """While `worker.is_running`: a sign of life every `every` seconds, in the database and
    (if given) by touching `file`. Cancel it when the worker stops; its row is removed."""
    name = name or this_worker()
    try:
        while True:
            if not getattr(worker, "is_running", False):
                await asyncio.sleep(0.1)  # not polling (yet): no sign of life
                continue
            try:
                async with transaction(sessions) as session:
                    await beat(session, name, task_queue, datetime.now(UTC))
            except Exception:  # the database is down: readiness says so by itself
                pass
            if file is not None:
                await asyncio.to_thread(_touch, file)
            await asyncio.sleep(every)
    finally:
        try:
            async with transaction(sessions) as session:
                await session.execute(delete(WorkerBeat).where(WorkerBeat.name == name))
        except Exception:
            pass
