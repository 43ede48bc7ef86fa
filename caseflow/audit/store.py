"""Writing the audit log (appending to each day's chain) and checking it.

Appends take the day's head row for update, so concurrent writers (several API processes)
chain one after another. Nothing here updates or deletes an entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.audit.chain import FIELDS, GENESIS, Call, link
from caseflow.models import AuditDay, AuditEntry
from caseflow.platform.bulk import insert_new


async def _head(db: AsyncSession, day: str) -> AuditDay:
    """The day's head, locked; made (anchored on the latest earlier day) if it is new."""
    head = await db.scalar(select(AuditDay).where(AuditDay.day == day).with_for_update())
    if head is not None:
        return head
    before = await db.scalar(
        select(AuditDay.root).where(AuditDay.day < day).order_by(AuditDay.day.desc()).limit(1)
    )
    anchor = before or GENESIS
    await insert_new(db, AuditDay, {"day": day, "count": 0, "root": anchor, "prev_root": anchor})
    made = await db.scalar(select(AuditDay).where(AuditDay.day == day).with_for_update())
    assert made is not None
    return made


async def append(db: AsyncSession, calls: Iterable[Call]) -> int:
    """Chain the calls onto their days, in order; the caller commits."""
    heads: dict[str, AuditDay] = {}
    written = 0
    for call in calls:
        head = heads.get(call.day) or await _head(db, call.day)
        heads[call.day] = head
        content: dict[str, Any] = {**asdict(call), "day": call.day, "seq": head.count + 1}
        digest = link(head.root, content)
        db.add(AuditEntry(**content, prev_hash=head.root, hash=digest))
        head.count, head.root = content["seq"], digest
        written += 1
    await db.flush()
    return written


@dataclass(frozen=True)
class Finding:
    """The first place the chain is broken."""

    kind: str  # edited | inserted | deleted | day_root
    entry_id: int | None
    day: str
    detail: str

    def __str__(self) -> str:
        where = f"entry {self.entry_id}" if self.entry_id is not None else f"day {self.day}"
        return f"{self.kind}: {where} — {self.detail}"


def content_of(entry: AuditEntry) -> dict[str, object]:
    return {name: getattr(entry, name) for name in FIELDS}


async def verify(db: AsyncSession, batch: int = 5000) -> tuple[int, Finding | None]:
    """(entries checked, the first break or None). Walks every day in order."""
    checked = 0
    expected_root = GENESIS
    days = list((await db.scalars(select(AuditDay).order_by(AuditDay.day))).all())
    known_days = {d.day for d in days}
    stray = await db.scalar(
        select(AuditEntry).where(AuditEntry.day.not_in(known_days)).order_by(AuditEntry.id)
    )
    for head in days:
        if head.prev_root != expected_root:
            return checked, Finding("day_root", None, head.day, "does not follow the day before")
        prev, seq, after = head.prev_root, 1, (0, 0)
        while True:
            rows = (
                await db.scalars(
                    select(AuditEntry)
                    .where(AuditEntry.day == head.day)
                    .where(
                        (AuditEntry.seq > after[0])
                        | ((AuditEntry.seq == after[0]) & (AuditEntry.id > after[1]))
                    )
                    .order_by(AuditEntry.seq, AuditEntry.id)
                    .limit(batch)
                )
            ).all()
            for row in rows:
                if row.seq < seq:
                    detail = "a second entry in a place already taken"
                    return checked, Finding("inserted", row.id, head.day, detail)
                if row.seq > seq:
                    missing = f"{row.seq - seq} entr{'y' if row.seq - seq == 1 else 'ies'}"
                    detail = f"{missing} before it were removed"
                    return checked, Finding("deleted", row.id, head.day, detail)
                if link(row.prev_hash, content_of(row)) != row.hash:
                    return checked, Finding("edited", row.id, head.day, "its content was changed")
                if row.prev_hash != prev:
                    detail = "it does not follow the one before (added, or that one rewritten)"
                    return checked, Finding("inserted", row.id, head.day, detail)
                prev, seq = row.hash, seq + 1
                checked += 1
            if len(rows) < batch:
                break
            after = (rows[-1].seq, rows[-1].id)
        if seq - 1 < head.count:
            detail = f"its last {head.count - seq + 1} entries were removed"
            return checked, Finding("deleted", None, head.day, detail)
        if prev != head.root:
            return checked, Finding("day_root", None, head.day, "its root does not match")
        expected_root = head.root
    if stray is not None:
        return checked, Finding("inserted", stray.id, stray.day, "no chain holds its day")
    return checked, None
