"""External tickets in the database: links to requests, inbound events once each, files."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.models import (
    Request,
    RequestFile,
    StoredFileRow,
    TicketEventRow,
    TicketLinkRow,
    TicketPostRow,
)
from caseflow.platform.bulk import insert_new
from caseflow.requests import files
from caseflow.requests.lifecycle import FINAL_STATES
from caseflow.tickets.connectors import StoredFile, TicketChange, TicketLink


async def keep_file(
    session: AsyncSession,
    request_id: str,
    filename: str,
    content_type: str,
    data: bytes,
    *,
    source: str,
    added_by: str | None,
    max_bytes: int = files.MAX_BYTES,
) -> StoredFile:
    """Check and keep a file for a request (raises files.FileRefused); the bytes once."""
    checked = files.check(filename, content_type, data, max_bytes)
    await insert_new(
        session,
        StoredFileRow,
        {
            "sha256": checked.sha256,
            "size": checked.size,
            "content_type": checked.content_type,
            "data": data,
            "created_at": datetime.now(UTC),
        },
    )
    await insert_new(
        session,
        RequestFile,
        {
            "request_id": request_id,
            "sha256": checked.sha256,
            "filename": checked.filename,
            "content_type": checked.content_type,
            "size": checked.size,
            "source": source,
            "added_by": added_by,
            "at": datetime.now(UTC),
        },
    )
    return StoredFile(
        sha256=checked.sha256,
        filename=checked.filename,
        content_type=checked.content_type,
        size=checked.size,
    )


async def request_files(session: AsyncSession, request_id: str) -> list[RequestFile]:
    query = select(RequestFile).where(RequestFile.request_id == request_id).order_by(RequestFile.id)
    return list(await session.scalars(query))


async def file_bytes(session: AsyncSession, sha256: str) -> bytes | None:
    return await session.scalar(select(StoredFileRow.data).where(StoredFileRow.sha256 == sha256))


async def link(session: AsyncSession, data: TicketLink) -> None:
    await insert_new(
        session,
        TicketLinkRow,
        {**data.model_dump(), "created_at": datetime.now(UTC)},
    )


async def linked(session: AsyncSession, connector: str, ticket_id: str) -> TicketLinkRow | None:
    return await session.get(TicketLinkRow, (connector, ticket_id))


async def open_links(session: AsyncSession, connector: str) -> dict[str, TicketLinkRow]:
    """Ticket id → link, for tickets whose request is still open (the poller's set)."""
    query = (
        select(TicketLinkRow)
        .join(Request, Request.id == TicketLinkRow.request_id)
        .where(TicketLinkRow.connector == connector)
        .where(Request.state.not_in([str(s) for s in FINAL_STATES]))
    )
    return {row.ticket_id: row for row in await session.scalars(query)}


async def record_change(
    session: AsyncSession, change: TicketChange, request_id: str | None
) -> bool:
    """Record an inbound change once; False if this (connector, event id) was seen before."""
    return await insert_new(
        session,
        TicketEventRow,
        {
            "connector": change.connector,
            "event_id": change.event_id,
            "ticket_id": change.ticket_id,
            "request_id": request_id,
            "kind": change.kind,
            "order": change.order,
            "change": change.model_dump(mode="json"),
            "received_at": datetime.now(UTC),
        },
    )


async def unsignalled(session: AsyncSession, connector: str, event_id: str) -> bool:
    row = await session.get(TicketEventRow, (connector, event_id))
    return row is not None and row.signalled_at is None


async def mark_signalled(session: AsyncSession, connector: str, event_ids: list[str]) -> None:
    if not event_ids:
        return
    await session.execute(
        update(TicketEventRow)
        .where(TicketEventRow.connector == connector, TicketEventRow.event_id.in_(event_ids))
        .values(signalled_at=datetime.now(UTC))
    )


async def post_done(session: AsyncSession, key: str) -> TicketPostRow | None:
    return await session.get(TicketPostRow, key)


async def record_post(
    session: AsyncSession, key: str, connector: str, ticket_id: str, article_id: str | None
) -> None:
    await insert_new(
        session,
        TicketPostRow,
        {
            "key": key,
            "connector": connector,
            "ticket_id": ticket_id,
            "article_id": article_id,
            "at": datetime.now(UTC),
        },
    )


async def own_articles(session: AsyncSession, connector: str, ticket_id: str) -> set[str]:
    query = select(TicketPostRow.article_id).where(
        TicketPostRow.connector == connector,
        TicketPostRow.ticket_id == ticket_id,
        TicketPostRow.article_id.is_not(None),
    )
    return {str(a) for a in await session.scalars(query)}
