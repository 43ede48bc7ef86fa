"""E-mails sent (or not) about requests: on the case, and failed ones for supervisors."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.common import WorkflowIDConflictPolicy

from api.deps import CurrentUser, DbSession, Temporal
from api.deps import State as App
from api.pagination import Cursor, Limit, Page, keyset
from api.problems import Problem, not_found
from api.routes.requests import RequestId
from api.routes.supervisor import require_overseer
from caseflow import access
from caseflow.access import Kind
from caseflow.mail.context import resend_order
from caseflow.models import Notification

router = APIRouter(tags=["notifications"])


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    message_id: str
    request_id: str | None
    recipient: str | None
    events: list[str]
    importance: str
    template: str | None
    subject: str | None
    status: Literal["pending", "sent", "failed", "skipped", "bounced"]
    attempts: int
    error: str | None
    created_at: datetime
    sent_at: datetime | None


async def page_of(
    db: AsyncSession, query: Select[Any], limit: int, cursor: str | None
) -> Page[NotificationOut]:
    rows, next_cursor = await keyset(
        db, query, [Notification.message_id], limit=limit, cursor=cursor
    )
    return Page(items=[NotificationOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/requests/{request_id}/notifications",
    response_model=Page[NotificationOut],
    operation_id="request_notifications",
)
async def of_request(
    request_id: RequestId,
    db: DbSession,
    user: CurrentUser,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[NotificationOut]:
    """Every e-mail about this request: sent, waiting to be retried, failed or skipped."""
    await access.request(db, user, request_id)
    # The request is visible (checked above), and so is every e-mail about it.
    query = select(Notification).where(Notification.request_id == request_id)
    return await page_of(db, query, limit, cursor)


@router.get(
    "/supervisor/notifications",
    response_model=Page[NotificationOut],
    operation_id="supervisor_notifications",
)
async def in_zone(
    db: DbSession,
    user: CurrentUser,
    status: Literal["pending", "sent", "failed", "skipped", "bounced"] = "failed",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[NotificationOut]:
    """E-mails about requests of the caller's zone, by status (failed ones by default)."""
    require_overseer(user)
    query = select(Notification).where(
        Notification.status == status,
        Notification.request_id.is_not(None),
        access.where(Kind.NOTIFICATION, user),
    )
    return await page_of(db, query, limit, cursor)


MessageId = Annotated[str, Path(max_length=200, description="the e-mail's Message-ID, <…@…>")]


@router.post(
    "/supervisor/notifications/{message_id}/resend",
    status_code=202,
    response_model=NotificationOut,
    operation_id="resend_notification",
)
async def resend(
    message_id: MessageId, db: DbSession, user: CurrentUser, temporal: Temporal, app: App
) -> NotificationOut:
    """Send a failed e-mail again, as it was rendered, under its own Message-ID: accepted
    at once, sent by a worker (retried like any e-mail); its status then says how it went."""
    require_overseer(user)
    row = await db.scalar(
        select(Notification).where(
            Notification.message_id == message_id,
            Notification.request_id.is_not(None),
            access.where(Kind.NOTIFICATION, user),
        )
    )
    if row is None:
        raise not_found(f"e-mail {message_id}")
    if row.status != "failed":
        raise Problem(
            409, "not_failed", f"only a failed e-mail is sent again; this one is {row.status}"
        )
    workflow_id, order = resend_order(message_id, row.attempts, app.settings.mail_give_up_after)
    await temporal.start_workflow(
        "ResendWorkflow",
        order,
        id=workflow_id,  # a double click resends once
        task_queue=app.settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    return NotificationOut.model_validate(row)
