"""A deal's tasks: closed by their assignee (or the deal's supervisor, or an admin), and
listed across deals as far as the caller may see them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.bounds import RowIdPath
from api.deps import CurrentUser, DbSession, Temporal
from api.pagination import Cursor, Limit, Page, keyset
from api.routes.deals import DealOut, act
from caseflow import access
from caseflow.access import Kind
from caseflow.models import Deal, DealTask, User

router = APIRouter(tags=["deals"])


class ResultIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    result: str | None = Field(default=None, max_length=10000)
    reason: str | None = Field(default=None, max_length=2000)


async def task_action(
    deal_id: str,
    task_id: int,
    verb: Literal["complete", "cancel"],
    db: AsyncSession,
    user: User,
    temporal: Any,
    body: ResultIn | None,
) -> DealOut:
    data = (body or ResultIn()).model_dump()
    return await act(
        db, user, temporal, deal_id, {"name": f"{verb}_task", "task_id": task_id, **data}
    )


@router.post(
    "/deals/{deal_id}/tasks/{task_id}/complete",
    response_model=DealOut,
    operation_id="complete_deal_task",
)
async def complete_task(
    deal_id: str,
    task_id: RowIdPath,
    db: DbSession,
    user: CurrentUser,
    temporal: Temporal,
    body: ResultIn | None = None,
) -> DealOut:
    """By the task's assignee, the deal's supervisor or an admin."""
    return await task_action(deal_id, task_id, "complete", db, user, temporal, body)


@router.post(
    "/deals/{deal_id}/tasks/{task_id}/cancel",
    response_model=DealOut,
    operation_id="cancel_deal_task",
)
async def cancel_task(
    deal_id: str,
    task_id: RowIdPath,
    db: DbSession,
    user: CurrentUser,
    temporal: Temporal,
    body: ResultIn | None = None,
) -> DealOut:
    """By the task's assignee, the deal's supervisor or an admin."""
    return await task_action(deal_id, task_id, "cancel", db, user, temporal, body)


class TaskOut(BaseModel):
    deal_id: str
    deal_title: str
    task_id: int
    title: str
    type: str
    stage: str
    assignee: str
    due_at: datetime
    blocking: bool
    status: str
    overdue: bool


@router.get("/tasks", response_model=Page[TaskOut], operation_id="list_tasks")
async def tasks(
    db: DbSession,
    user: CurrentUser,
    assignee: str = "me",
    overdue: bool | None = None,
    status: Literal["open", "done", "cancelled"] = "open",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[TaskOut]:
    """Tasks across deals; `assignee=me` for the caller's own. Another person's tasks are
    listed as far as the caller may see them (on their deals, in their zone)."""
    who = user.username if assignee == "me" else assignee
    now = datetime.now(UTC)
    query = (
        select(DealTask, Deal.title)
        .join(Deal, Deal.id == DealTask.deal_id)
        .where(DealTask.assignee == who, DealTask.status == status, access.where(Kind.TASK, user))
    )
    if overdue is not None:
        query = query.where(DealTask.due_at < now if overdue else DealTask.due_at >= now)
    order = (DealTask.due_at, DealTask.deal_id, DealTask.task_id)
    rows, next_cursor = await keyset(
        db,
        query,
        order,
        limit=limit,
        cursor=cursor,
        scalars=False,
        place_of=lambda row: (row[0].due_at, row[0].deal_id, row[0].task_id),
    )
    items = [
        TaskOut(
            deal_id=t.deal_id,
            deal_title=title,
            task_id=t.task_id,
            title=t.title,
            type=t.type,
            stage=t.stage,
            assignee=t.assignee,
            due_at=t.due_at,
            blocking=t.blocking,
            status=t.status,
            overdue=t.due_at < now and t.status == "open",
        )
        for t, title in rows
    ]
    return Page(items=items, next_cursor=next_cursor)
