"""The `notifications` outbox: an e-mail is written here, rendered, before SMTP hears of
it, and its row says whether it went out. Keyed by Message-ID, so a retried activity finds
what it wrote first and never sends a second time once sent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.models import Notification


async def keep(session: AsyncSession, row: Notification) -> Notification:
    """Write the e-mail once: if another attempt wrote it first, theirs is the one."""
    try:
        session.add(row)
        await session.flush()
    except IntegrityError:
        await session.rollback()
        existing = await session.get(Notification, row.message_id)
        assert existing is not None
        return existing
    return row


async def mark(session: AsyncSession, message_id: str, **values: Any) -> None:
    await session.execute(
        update(Notification).where(Notification.message_id == message_id).values(**values)
    )


async def fail_pending(session: AsyncSession, message_id: str) -> None:
    """Retries are used up: failed, unless it went out after all."""
    await session.execute(
        update(Notification)
        .where(Notification.message_id == message_id, Notification.status == "pending")
        .values(status="failed")
    )


async def resend(session: AsyncSession, message_id: str) -> Notification | None:
    """A failed e-mail back to pending for one more try (a sent or skipped one as it is)."""
    row = await session.get(Notification, message_id)
    if row is not None and row.status not in ("sent", "skipped"):
        row.status, row.attempts = "pending", row.attempts + 1
    return row
