"""A deal's history: every change, with who made it and when, oldest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from api.deps import CurrentUser, DbSession
from api.pagination import Cursor, Limit, Page, keyset
from caseflow import access
from caseflow.models import DealEventRow

router = APIRouter(tags=["deals"])


class DealEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor: str
    action: str
    stage: str
    reason: str | None
    data: dict[str, Any]


@router.get(
    "/deals/{deal_id}/events", response_model=Page[DealEventOut], operation_id="deal_events"
)
async def deal_events(
    deal_id: str, db: DbSession, user: CurrentUser, limit: Limit = 200, cursor: Cursor = None
) -> Page[DealEventOut]:
    deal = await access.deal(db, user, deal_id)
    query = select(DealEventRow).where(DealEventRow.deal_id == deal.id)
    rows, next_cursor = await keyset(db, query, [DealEventRow.seq], limit=limit, cursor=cursor)
    return Page(
        items=[DealEventOut.model_validate(r) for r in rows],
        next_cursor=next_cursor,
    )
