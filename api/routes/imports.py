"""Bulk customer imports (admins): upload a CSV or JSON Lines file as a source, then follow
its progress; the rejected rows come back as a CSV with line, field and reason."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse
from temporalio.common import WorkflowIDReusePolicy

from api.deps import AppSettings, CurrentUser, DbSession, State, Temporal
from api.problems import Problem, invalid
from caseflow.customers import import_jobs
from caseflow.customers.import_terms import ImportProgress
from caseflow.models import CustomerImport
from caseflow.requests.lifecycle import Role
from workflows.customer_import import CustomerImportWorkflow

router = APIRouter(prefix="/admin/imports", tags=["admin"])
MAX_BYTES = 512 * 1024 * 1024
NAME = r"^[a-z0-9][a-z0-9_.-]{0,48}$"


def require_admin(user: CurrentUser) -> None:
    if user.role != Role.ADMIN:
        raise Problem(403, "forbidden", "imports are for admins")


@router.post("", status_code=202, response_model=ImportProgress, operation_id="start_import")
async def start_import(
    user: CurrentUser,
    app: State,
    temporal: Temporal,
    settings: AppSettings,
    file: Annotated[UploadFile, File(description="CSV with a header row, or JSON Lines")],
    source: Annotated[
        str, Form(pattern=NAME, description="its facts are import:<source>")
    ] = "upload",
) -> JSONResponse:
    """The file staged and its import started (a durable workflow); follow it at
    `GET /admin/imports/{id}`."""
    require_admin(user)
    name = file.filename or "upload.csv"
    if not name.lower().endswith((".csv", ".jsonl", ".ndjson")):
        raise invalid("file", "a .csv (with a header row) or .jsonl file")
    data = await file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise invalid("file", f"larger than {MAX_BYTES // 1024 // 1024} MiB")
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise invalid("file", f"not UTF-8 text (byte {exc.start})") from exc
    job = await import_jobs.stage(app.engine, f"import:{source}", name, data, user.username)
    await temporal.start_workflow(
        CustomerImportWorkflow.run, job.id, id=f"customer-import-{job.id}",
        task_queue=settings.task_queue, id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )  # fmt: skip
    body = import_jobs.progress(job).model_dump(mode="json")
    return JSONResponse(
        body, status_code=202, headers={"Location": f"/api/v1/admin/imports/{job.id}"}
    )


@router.get("/{import_id}", response_model=ImportProgress, operation_id="import_progress")
async def import_progress(import_id: str, db: DbSession, user: CurrentUser) -> ImportProgress:
    """Rows done, rows per second, rejects and the time left."""
    require_admin(user)
    job = await db.get(CustomerImport, import_id)
    if job is None:
        raise Problem(404, "not_found", f"no import {import_id}")
    return import_jobs.progress(job)


@router.get("/{import_id}/rejects", operation_id="import_rejects", response_class=PlainTextResponse)
async def import_rejects(import_id: str, db: DbSession, user: CurrentUser) -> PlainTextResponse:
    """The rejected rows as CSV: line, field, reason."""
    require_admin(user)
    if await db.get(CustomerImport, import_id) is None:
        raise Problem(404, "not_found", f"no import {import_id}")
    text = await import_jobs.rejects_csv(db, import_id)
    return PlainTextResponse(text, media_type="text/csv; charset=utf-8")
