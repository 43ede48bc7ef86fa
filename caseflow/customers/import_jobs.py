"""An import as a job: its file staged (COPY on PostgreSQL), then one batch per step, each
step one transaction with the checkpoint — what the import workflow's activity runs and
what the API and the CLI read as progress."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from caseflow.customers import imports
from caseflow.customers.import_terms import ImportProgress
from caseflow.customers.survivorship import Survivorship
from caseflow.models import CustomerImport, CustomerImportReject, CustomerImportRow
from caseflow.platform.db import transaction

BATCH = 2000
# Seconds of batches per call of the import's activity: few workflow round trips, and each
# batch read ahead while the one before it is written.
RUN_FOR = 20.0
# A large import grows the tables faster than autovacuum looks at them: with statistics of
# a base ten times smaller the planner scans where it should seek, and every batch slows.
ANALYZE_EVERY = 100_000
GROWING = ("customers", "customer_contacts", "customer_facts", "customer_match_keys")
STAGE_CHUNK = 5000


def progress(job: CustomerImport, now: datetime | None = None) -> ImportProgress:
    now = now or datetime.now(UTC)
    end = job.finished_at or now
    elapsed = (end - job.started_at).total_seconds() if job.started_at else 0.0
    rate = job.rows_done / elapsed if elapsed > 0 else 0.0
    left = job.rows_total - job.rows_done
    return ImportProgress(
        id=job.id, source=job.source, filename=job.filename, status=job.status,
        rows_total=job.rows_total, rows_done=job.rows_done, created=job.created,
        updated=job.updated, joined=job.joined, rejected=job.rejected,
        rows_per_s=round(rate, 1), eta_s=round(left / rate, 1) if rate and left else None,
        started_at=job.started_at, finished_at=job.finished_at,
    )  # fmt: skip


async def stage(
    engine: AsyncEngine, source: str, filename: str, data: bytes, by: str
) -> CustomerImport:
    """The import recorded and its rows in the staging table (COPY on PostgreSQL)."""
    job = CustomerImport(
        id=str(uuid.uuid4()), source=source, filename=filename[:255], status="staged", by=by,
        rows_total=0, rows_done=0, created=0, updated=0, joined=0, rejected=0, position=0,
        created_at=datetime.now(UTC),
    )  # fmt: skip
    rows = imports.staged_rows(job.id, filename, data)
    async with engine.begin() as conn:
        await conn.execute(insert(CustomerImport).values(**_columns(job)))
        if engine.dialect.name == "postgresql":
            raw = await conn.get_raw_connection()
            cursor = raw.driver_connection.cursor()  # type: ignore[union-attr]
            count = 0
            async with cursor.copy(
                "COPY customer_import_rows (import_id, line, data) FROM STDIN"
            ) as copy:
                for row in rows:
                    await copy.write_row(row)
                    count += 1
        else:
            count = 0
            chunk: list[dict[str, Any]] = []
            for import_id, line, text in rows:
                chunk.append({"import_id": import_id, "line": line, "data": _json(text)})
                if len(chunk) >= STAGE_CHUNK:
                    await conn.execute(insert(CustomerImportRow), chunk)
                    count, chunk = count + len(chunk), []
            if chunk:
                await conn.execute(insert(CustomerImportRow), chunk)
                count += len(chunk)
        await conn.execute(
            update(CustomerImport).where(CustomerImport.id == job.id).values(rows_total=count)
        )
    job.rows_total = count
    await staged_statistics(engine)
    return job


async def staged_statistics(engine: AsyncEngine) -> None:
    """The staging table's statistics, fresh after a file is staged (PostgreSQL): without
    them the planner takes the rows left for a handful and reads every one of them, then
    sorts, for each batch — with a million rows staged, most of a batch's time."""
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE customer_import_rows"))


def _json(text: str) -> Any:
    return json.loads(text)


def _columns(job: CustomerImport) -> dict[str, Any]:
    return {c.name: getattr(job, c.name) for c in CustomerImport.__table__.columns}


Owners = dict[tuple[str, str], str]


@dataclass
class Batch:
    """The rows after a checkpoint, read and examined: what one step writes."""

    last: int  # its last line: the checkpoint it leaves
    size: int
    rows: list[imports.Row | imports.Rejected]
    owners: Owners | None = None  # whose the rows' keys are, when read ahead


async def read(db: AsyncSession, import_id: str, after: int, size: int) -> Batch:
    staged = await imports.batch_of(db, import_id, after, size)
    examined = await asyncio.to_thread(imports.examine, staged)
    last = staged[-1].line if staged else after
    return Batch(last, len(staged), examined)


class ReadAhead:
    """The next batch read, examined (in a thread) and its keys looked up (on its own
    connection) while the current one is written: the database and Python work at once.
    Taken only by the step whose checkpoint it follows. The keys the current batch writes
    are not visible to that lookup until it commits: the step hands them over (`carry`) and
    they join the next batch's owners when it is taken."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.pending: tuple[str, int, asyncio.Task[Batch]] | None = None
        self.carried: Owners = {}

    def start(self, import_id: str, after: int, size: int) -> None:
        self.close()
        self.pending = (import_id, after, asyncio.create_task(self._read(import_id, after, size)))

    async def _read(self, import_id: str, after: int, size: int) -> Batch:
        async with self.sessions() as db:
            batch = await read(db, import_id, after, size)
            good = [row for row in batch.rows if isinstance(row, imports.Row)]
            batch.owners = await imports.known(db, good)
            return batch

    def carry(self, owners: Owners) -> None:
        """Whose the keys of the batch being written are: the pending batch's lookup may
        have run before they were committed."""
        self.carried = owners

    async def take(self, import_id: str, after: int) -> Batch | None:
        if self.pending is None or self.pending[:2] != (import_id, after):
            self.close()
            return None
        task, carried = self.pending[2], self.carried
        self.pending, self.carried = None, {}
        batch = await task
        batch.owners = {**(batch.owners or {}), **carried}
        return batch

    def close(self) -> None:
        if self.pending is not None:
            self.pending[2].cancel()
            self.pending = None
        self.carried = {}


async def step(
    db: AsyncSession,
    rules: Survivorship,
    import_id: str,
    size: int = BATCH,
    ahead: ReadAhead | None = None,
) -> ImportProgress:
    """The next batch imported and the checkpoint moved, in the caller's transaction; an
    import with nothing left is marked done. With `ahead`, the batch after it is read
    meanwhile."""
    job = await db.scalar(
        select(CustomerImport).where(CustomerImport.id == import_id).with_for_update()
    )
    if job is None:
        raise LookupError(f"no import {import_id}")
    now = datetime.now(UTC)
    if job.status in ("done", "failed"):
        return progress(job, now)
    if job.started_at is None:
        job.started_at, job.status = now, "running"
    batch = await ahead.take(job.id, job.position) if ahead else None
    if batch is None:
        batch = await read(db, job.id, job.position, size)
    if not batch.size:
        job.status, job.finished_at = "done", now
        return progress(job, now)
    if ahead:
        ahead.start(job.id, batch.last, size)
    outcome = await imports.run_batch(db, rules, job, batch.rows, batch.owners)
    if ahead:
        ahead.carry(outcome.owners)
    if (job.rows_done + batch.size) // ANALYZE_EVERY > job.rows_done // ANALYZE_EVERY:
        await fresh_statistics(db)
    job.position = batch.last
    job.rows_done += batch.size
    job.created += outcome.created
    job.updated += outcome.updated
    job.joined += outcome.joined
    job.rejected += outcome.rejected
    return progress(job, now)


async def run_for(
    sessions: async_sessionmaker[AsyncSession],
    rules: Survivorship,
    import_id: str,
    seconds: float = RUN_FOR,
    size: int = BATCH,
) -> ImportProgress:
    """Batches one after another for about `seconds` (or to the end), each its own
    transaction with its checkpoint, each next one read while the one before is written."""
    ahead = ReadAhead(sessions)
    until = time.monotonic() + seconds
    try:
        while True:
            async with transaction(sessions) as db:
                done = await step(db, rules, import_id, size, ahead)
            if done.finished or time.monotonic() >= until:
                return done
    finally:
        ahead.close()


async def fresh_statistics(db: AsyncSession) -> None:
    """The planner's statistics of the tables an import grows (PostgreSQL)."""
    if (await db.connection()).dialect.name == "postgresql":
        await db.execute(text(f"ANALYZE {', '.join(GROWING)}"))


async def rejects_csv(db: AsyncSession, import_id: str) -> str:
    """The rejected rows: line, field, reason — a CSV to fix the file by."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["line", "field", "reason"])
    for reject in await db.scalars(
        select(CustomerImportReject)
        .where(CustomerImportReject.import_id == import_id)
        .order_by(CustomerImportReject.line, CustomerImportReject.id)
    ):
        writer.writerow([reject.line, reject.field, reject.reason])
    return out.getvalue()
