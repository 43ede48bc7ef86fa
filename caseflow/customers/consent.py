"""Consent per channel and purpose, the way a contact point's consent is kept: each
statement (granted or withdrawn) with its source, when it was captured and until when it
holds; the newest statement for a channel and purpose is the one in force.

Service messages (about the customer's own requests) go regardless; anything for
marketing asks `allows(...)` first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.models import CustomerConsent

Channel = Literal["phone", "email", "sms"]
Purpose = Literal["service", "marketing"]
CHANNELS: tuple[Channel, ...] = ("phone", "email", "sms")
PURPOSES: tuple[Purpose, ...] = ("service", "marketing")


class InForce(BaseModel):
    """A consent statement as it stands at a moment."""

    channel: str
    purpose: str
    granted: bool
    source: str
    captured_at: datetime
    valid_until: datetime | None
    expired: bool


async def statements(db: AsyncSession, customer_id: str) -> list[CustomerConsent]:
    """Every statement, oldest first."""
    rows = await db.scalars(
        select(CustomerConsent)
        .where(CustomerConsent.customer_id == customer_id)
        .order_by(CustomerConsent.captured_at, CustomerConsent.id)
    )
    return list(rows)


def shown(row: CustomerConsent, now: datetime) -> InForce:
    """A statement as it stands at `now` (an expired grant no longer grants)."""
    return InForce(
        channel=row.channel, purpose=row.purpose, granted=row.granted, source=row.source,
        captured_at=row.captured_at, valid_until=row.valid_until,
        expired=row.valid_until is not None and row.valid_until <= now,
    )  # fmt: skip


def in_force(rows: list[CustomerConsent], now: datetime) -> list[InForce]:
    """Per channel and purpose, the newest statement."""
    newest: dict[tuple[str, str], CustomerConsent] = {}
    for row in rows:
        newest[(row.channel, row.purpose)] = row
    return [shown(row, now) for _, row in sorted(newest.items())]


async def allows(
    db: AsyncSession, customer_id: str, purpose: Purpose, now: datetime, channel: str | None = None
) -> bool:
    """Whether the customer may be contacted for `purpose` (on `channel`, else on any):
    service always; marketing only with a grant in force."""
    if purpose == "service":
        return True
    return any(
        c.granted and not c.expired and c.purpose == purpose and channel in (None, c.channel)
        for c in in_force(await statements(db, customer_id), now)
    )
