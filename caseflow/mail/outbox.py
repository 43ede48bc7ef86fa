"""The `notifications` outbox: an e-mail is written here, rendered, before SMTP hears of
it, and its row says whether it went out. Keyed by Message-ID, so a retried activity finds
what it wrote first and never sends a second time once sent."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ClauseElement

from caseflow.models import InboundMessage, Notification
from caseflow.models.base import utcnow
from caseflow.platform import bulk

IN_DOUBT = (
    "sent again: an earlier attempt was cut off after handing it to the SMTP server, "
    "which may have kept that copy too (same Message-ID)"
)


# The statements of every e-mail, built once: values travel as parameters.
NOTIFICATIONS = cast(Table, Notification.__table__)
KEPT = select(Notification).where(Notification.message_id == bindparam("message_id"))
MARKING = update(NOTIFICATIONS).where(NOTIFICATIONS.c.message_id == bindparam("marked_id"))
ANSWERED = (
    select(InboundMessage.message_key)
    .where(
        InboundMessage.request_id == bindparam("request_id"),
        InboundMessage.status.in_(("registered", "replied", "noted")),
        InboundMessage.message_key.startswith("<"),
    )
    .order_by(InboundMessage.id.desc())
    .limit(1)
)


async def kept(session: AsyncSession, message_id: str) -> Notification | None:
    """The e-mail as an earlier attempt wrote it, if one did."""
    return await session.scalar(KEPT, {"message_id": message_id})


async def keep(session: AsyncSession, row: Notification) -> tuple[Notification, bool]:
    """Write the e-mail once: if another attempt wrote it first, theirs is the one (and
    False: not written now). One INSERT … ON CONFLICT DO NOTHING in the caller's
    transaction (no error to roll back)."""
    values = {
        column.name: value
        for column in Notification.__table__.columns
        if (value := getattr(row, column.key)) is not None
    }
    if not await bulk.insert_new(session, Notification, values):  # an earlier attempt's
        existing = await kept(session, row.message_id)
        assert existing is not None
        return existing, False
    return row, True


async def mark(session: AsyncSession, message_id: str, **values: Any) -> None:
    """The row's columns set: plain values as parameters of one statement; a SQL
    expression (attempts + 1) in a statement of its own."""
    if any(isinstance(value, ClauseElement) for value in values.values()):
        await session.execute(MARKING.values(**values), {"marked_id": message_id})
    else:
        await session.execute(MARKING, {"marked_id": message_id, **values})


async def fail_pending(session: AsyncSession, message_id: str) -> None:
    """Retries are used up: failed, unless it went out after all."""
    await session.execute(
        update(Notification)
        .where(Notification.message_id == message_id, Notification.status == "pending")
        .values(status="failed")
    )


async def hand_over_again(session: AsyncSession, row: Notification) -> bool:
    """An earlier attempt's pending row, handed to the SMTP server once more (now, one
    attempt more). True when that attempt was cut off after handing it over — its answer
    never written: the e-mail goes again and the row says a second copy may have arrived.
    (A row written now is written handed over: `handed_at` set as it is inserted.)"""
    doubt = row.handed_at is not None
    values: dict[str, Any] = {"handed_at": utcnow(), "attempts": Notification.attempts + 1}
    if doubt:
        values["error"] = IN_DOUBT
    await mark(session, row.message_id, **values)
    return doubt


async def resend(session: AsyncSession, message_id: str) -> tuple[Notification | None, bool]:
    """A failed e-mail back to pending and handed over for one more try (a sent or skipped
    one as it is), and whether an earlier try was cut off after handing it over."""
    row = await session.get(Notification, message_id)
    if row is None or row.status in ("sent", "skipped"):
        return row, False
    doubt = row.handed_at is not None
    row.status, row.attempts, row.handed_at = "pending", row.attempts + 1, utcnow()
    if doubt:
        row.error = IN_DOUBT
    return row, doubt


async def answering(session: AsyncSession, request_id: str | None) -> str | None:
    """The Message-ID of the customer's latest e-mail on the request, which an e-mail about
    it answers (In-Reply-To): their mail program shows the two in one conversation."""
    if request_id is None:
        return None
    found = await session.scalar(ANSWERED, {"request_id": request_id})
    return str(found) if found else None
