"""E-mail received, kept before anything else: the message's bytes once (content-addressed,
like files) and a row by its key (Message-ID, or a hash where it has none), committed — only
then does the gateway answer 250, or a mailbox's poller move the message out of its folder.
A message delivered or fetched again answers the row it has already. Filing it (a case, a
reply) is the mail gateway's, which reads the rows kept and not filed."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.mail import inbound
from caseflow.mail.inbound import Inbound
from caseflow.models import InboundMessage, StoredFileRow
from caseflow.platform import bulk

# A message larger is not taken in: the gateway answers 552, a mailbox's poller says so.
MAX_BYTES = 25 * 1024 * 1024


async def keep(
    db: AsyncSession, raw: bytes, *, recipients: list[str], mail_from: str, via: str
) -> tuple[InboundMessage, Inbound]:
    """The message kept once (bytes content-addressed, a row by its key) and committed, and
    the message as read. A message delivered again answers the row it has already."""
    read = inbound.read(raw, recipients)
    held = await db.scalar(select(InboundMessage).where(InboundMessage.message_key == read.key))
    if held is not None:
        return held, read
    sha = hashlib.sha256(raw).hexdigest()
    await bulk.insert_new(
        db,
        StoredFileRow,
        {"sha256": sha, "size": len(raw), "content_type": "message/rfc822", "data": raw,
         "created_at": datetime.now(UTC)},
    )  # fmt: skip
    row = InboundMessage(
        message_key=read.key, sha256=sha, size=len(raw), via=via[:64],
        mail_from=(read.sender or mail_from)[:320], recipients=recipients,
        subject=read.subject.replace("\x00", "")[:500], received_at=datetime.now(UTC),
        status="received",
    )  # fmt: skip
    db.add(row)
    try:
        await db.commit()
    except IntegrityError:  # the same message, kept at this moment by another delivery
        await db.rollback()
        held = await db.scalar(select(InboundMessage).where(InboundMessage.message_key == read.key))
        assert held is not None
        return held, read
    return row, read


async def refuse(db: AsyncSession, raw: bytes, *, via: str, reason: str) -> InboundMessage:
    """A message not taken in (over the size limit): a row says so; its bytes are not kept."""
    read = inbound.read(raw[:65536])  # the headers are enough to name it
    key = read.message_id or inbound.key_of(raw, None)
    held = await db.scalar(select(InboundMessage).where(InboundMessage.message_key == key))
    if held is not None:
        return held
    row = InboundMessage(
        message_key=key, sha256=hashlib.sha256(raw).hexdigest(), size=len(raw), via=via[:64],
        mail_from=read.sender[:320], recipients=[], subject=read.subject[:500],
        received_at=datetime.now(UTC), status="failed", reason=reason, filed_at=datetime.now(UTC),
    )  # fmt: skip
    db.add(row)
    await db.commit()
    return row
