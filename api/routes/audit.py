"""The audit log for admins and the security role: searched, and exported for a period."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from api.bounds import Moment
from api.deps import CurrentUser, DbSession, State
from api.pagination import Cursor, Limit, Page, keyset
from api.problems import invalid
from api.routes.admin import require
from caseflow.models import AuditEntry
from caseflow.requests.lifecycle import Role

router = APIRouter(prefix="/admin/audit", tags=["admin"])
READERS = (Role.ADMIN, Role.SECURITY)


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    day: str
    seq: int
    at: datetime
    actor: str | None
    role: str | None
    method: str
    route: str
    record_kind: str | None
    record_id: str | None
    detail: str | None
    address: str | None
    status: int
    prev_hash: str
    hash: str


@router.get("", response_model=Page[AuditOut], operation_id="audit_log")
async def audit_log(
    db: DbSession,
    user: CurrentUser,
    actor: Annotated[str | None, Query(alias="user", max_length=64)] = None,
    record: Annotated[str | None, Query(max_length=100)] = None,
    since: Moment | None = None,
    until: Moment | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[AuditOut]:
    """Newest first: who did or read what, when, from where, with what outcome."""
    require(user, *READERS)
    query = select(AuditEntry)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if record is not None:
        query = query.where(AuditEntry.record_id == record)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    rows, next_cursor = await keyset(
        db, query, [AuditEntry.id], limit=limit, cursor=cursor, descending=True
    )
    return Page(items=[AuditOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/export", operation_id="audit_export", response_class=StreamingResponse)
async def audit_export(
    user: CurrentUser,
    app: State,
    start: Annotated[Moment, Query(alias="from")],
    to: Moment,
) -> StreamingResponse:
    """Every entry of [from, to) in chain order, one JSON object a line, hashes included,
    so the copy can be checked on its own."""
    require(user, *READERS)
    if to <= start:
        raise invalid("to", "must be after from")

    async def lines() -> AsyncIterator[bytes]:
        async with app.sessions() as db:
            query = (
                select(AuditEntry)
                .where(AuditEntry.at >= start, AuditEntry.at < to)
                .order_by(AuditEntry.day, AuditEntry.seq, AuditEntry.id)
            )
            for row in (await db.scalars(query)).all():
                data = AuditOut.model_validate(row).model_dump(mode="json")
                yield (json.dumps(data, ensure_ascii=False) + "\n").encode()

    return StreamingResponse(lines(), media_type="application/x-ndjson")
