"""Bringing every profile in line with changed survivorship rules: the profiles that have
facts, in batches, each batch one transaction that also moves the checkpoint — stopped at
any point, the next run goes on after the last batch that was written."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from caseflow.customers import profile
from caseflow.customers.survivorship import Survivorship
from caseflow.models import Customer, CustomerFact, JobCheckpoint

JOB = "customers.recompute"
SOURCE = "survivorship"  # what a change by the rules alone is recorded as


@dataclass(frozen=True)
class Progress:
    done: int  # profiles looked at, this run and the runs it goes on from
    total: int  # profiles with facts
    changed: int  # profiles whose values changed in this run


async def run(
    sessions: async_sessionmaker[AsyncSession],
    rules: Survivorship,
    by: str,
    batch: int = 500,
    again: bool = False,
) -> AsyncGenerator[Progress, None]:
    """Recompute every profile with facts; yields progress after each batch. `again` starts
    from the beginning instead of where the last run stopped."""
    async with sessions() as db:
        total = await db.scalar(select(func.count(func.distinct(CustomerFact.customer_id)))) or 0
        mark = await db.get(JobCheckpoint, JOB)
        after = None if again or mark is None or mark.position is None else mark.position
        done = 0 if again or mark is None or mark.position is None else mark.done
    changed = 0
    while True:
        async with sessions() as db, db.begin():
            query = select(CustomerFact.customer_id).distinct().order_by(CustomerFact.customer_id)
            if after is not None:
                query = query.where(CustomerFact.customer_id > after)
            ids = list(await db.scalars(query.limit(batch)))
            now = datetime.now(UTC)
            for customer in await db.scalars(
                select(Customer).where(Customer.id.in_(ids)).order_by(Customer.id)
            ):
                if await profile.recompute(db, rules, customer, SOURCE, by, now, "recompute"):
                    changed += 1
            done += len(ids)
            finished = len(ids) < batch
            after = ids[-1] if ids else None
            await _checkpoint(db, None if finished else after, done, now)
        yield Progress(done=done, total=total, changed=changed)
        if finished:
            return


async def _checkpoint(db: AsyncSession, position: str | None, done: int, at: datetime) -> None:
    """None: finished (the next run starts from the beginning)."""
    mark = await db.get(JobCheckpoint, JOB)
    if mark is None:
        mark = JobCheckpoint(name=JOB)
        db.add(mark)
    mark.position, mark.done, mark.updated_at = position, done if position else 0, at
