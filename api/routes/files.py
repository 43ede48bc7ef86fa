"""Files of a request: uploaded in Caseflow or brought back from an external ticket.

Kept content-addressed (SHA-256), size-limited, and only when the bytes agree with the
declared type. A public comment names uploaded files to send them to the customer's
external ticket too; while an adjacent department has the case, an upload goes to its
ticket by itself (as an internal note).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Path, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError

from api.deps import AppSettings, CurrentUser, DbSession, Temporal, actor_of
from api.pagination import Cursor, Limit, Page, keyset
from api.problems import invalid, not_found
from api.temporal_errors import to_problem
from caseflow import access
from caseflow.models import Request, RequestFile, User
from caseflow.payloads import Action
from caseflow.requests.files import FileRefused
from caseflow.tickets import store as tickets
from caseflow.tickets.connectors import StoredFile
from workflows.request import RequestWorkflow

router = APIRouter(prefix="/requests", tags=["files"])
Sha = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]


class FileOut(BaseModel):
    sha256: str
    filename: str
    content_type: str
    size: int
    source: str
    added_by: str | None
    at: datetime


@router.post("/{request_id}/files", status_code=201, response_model=FileOut)
async def upload_file(
    request_id: str,
    db: DbSession,
    user: CurrentUser,
    settings: AppSettings,
    temporal: Temporal,
    file: Annotated[UploadFile, File()],
) -> FileOut:
    row = await access.request(db, user, request_id)
    data = await file.read(settings.attachment_max_bytes + 1)
    try:
        stored = await tickets.keep_file(
            db,
            row.id,
            file.filename or "",
            file.content_type or "application/octet-stream",
            data,
            source="caseflow",
            added_by=user.username,
            max_bytes=settings.attachment_max_bytes,
        )
    except FileRefused as exc:
        raise invalid("file", str(exc)) from exc
    await db.commit()
    (kept,) = [
        f
        for f in await tickets.request_files(db, row.id)
        if (f.sha256, f.filename) == (stored.sha256, stored.filename)
    ]
    await share_with_department(temporal, row, user, stored, db)
    return FileOut.model_validate(kept, from_attributes=True)


async def share_with_department(
    temporal: Client, row: Request, user: User, stored: StoredFile, db: AsyncSession
) -> None:
    """While an adjacent department has the case, a file attached in Caseflow goes to its
    ticket too: an internal comment naming the file, shared with the ticket."""
    handle = temporal.get_workflow_handle(row.workflow_id)
    try:
        view = await handle.query(RequestWorkflow.view)
    except RPCError:
        return  # the case's workflow is gone (finished long ago): nothing to share with
    external = view.external
    if external is None or not external.active or external.failed is not None:
        return
    action = Action(
        name="comment",
        actor=await actor_of(user, db),
        text=f"Caseflow: {user.username} attached {stored.filename}",
        files=[stored],
        share=True,
    )
    try:
        await handle.execute_update(RequestWorkflow.act, action)
    except WorkflowUpdateFailedError as exc:
        raise to_problem(exc) from exc


@router.get("/{request_id}/files", response_model=Page[FileOut])
async def list_files(
    request_id: str, db: DbSession, user: CurrentUser, limit: Limit = 50, cursor: Cursor = None
) -> Page[FileOut]:
    row = await access.request(db, user, request_id)
    query = select(RequestFile).where(RequestFile.request_id == row.id)
    found, after = await keyset(db, query, [RequestFile.id], limit=limit, cursor=cursor)
    return Page(
        items=[FileOut.model_validate(f, from_attributes=True) for f in found], next_cursor=after
    )


@router.get("/{request_id}/files/{sha256}", response_class=Response)
async def download_file(request_id: str, sha256: Sha, db: DbSession, user: CurrentUser) -> Response:
    row = await access.request(db, user, request_id)
    kept = [f for f in await tickets.request_files(db, row.id) if f.sha256 == sha256]
    data = await tickets.file_bytes(db, sha256) if kept else None
    if data is None:
        raise not_found("file")
    disposition = f"attachment; filename*=UTF-8''{quote(kept[0].filename, safe='')}"
    return Response(
        data, media_type=kept[0].content_type, headers={"Content-Disposition": disposition}
    )
