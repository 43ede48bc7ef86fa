"""Deals: started as DealWorkflow (update-with-start), changed by updates, listed from SQL."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictFloat
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import (
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api.deadline import accepted, update_with_start
from api.deps import AppSettings, CurrentUser, DbSession, State, Temporal, actor_of
from api.idempotency import body_hash, workflow_key
from api.pagination import Cursor, Limit, Page, keyset
from api.problems import Problem, invalid
from api.temporal_errors import to_problem
from caseflow import access
from caseflow.access import Kind, NotVisible
from caseflow.deals import store as deals
from caseflow.deals.gates import DealAction, DealStart, DealStatus, DealView, Task
from caseflow.models import Customer, Deal, DealTask, User
from caseflow.payloads import Intake
from caseflow.requests.lifecycle import Role
from workflows.deal import DealWorkflow

router = APIRouter(tags=["deals"])
KEY_NAMESPACE = uuid.UUID("8f4e7a52-2b7c-4c1e-9d55-0c3b9b1f6a21")
SELLERS = (Role.MANAGER, Role.SUPERVISOR, Role.ADMIN)
Scalar = str | int | float | bool | None


class DealIn(BaseModel):
    # Infinity and NaN are not amounts (JSON has no such numbers; they were stored as null).
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    customer_id: str
    pipeline: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=300)
    amount: StrictFloat | None = Field(default=None, ge=0, description="a number, not true/false")
    currency: str = Field(default="RUB", pattern=r"^[A-Z]{3}$")
    fields: dict[str, Scalar] = Field(default_factory=dict)


class DealOut(DealView):
    pass


def require_seller(user: User) -> None:
    if user.role not in SELLERS:
        raise Problem(403, "forbidden", "deals are for managers, their supervisors and admins")


async def check_ownership(db: AsyncSession, customer: Customer, owner: str) -> None:
    """One client, one manager: another manager's customer gets no second open deal."""
    unit = await deals.worked_by_other(db, customer, owner)
    if unit is not None:
        raise Problem(
            409,
            "customer_owned",
            f"this customer is already worked by the {unit} unit",
            unit=unit,
        )


customer_facts = deals.customer_facts  # what a deal's gates read of its customer


@router.post("/deals", status_code=201, response_model=DealOut, operation_id="create_deal")
async def create_deal(
    body: DealIn,
    db: DbSession,
    user: CurrentUser,
    temporal: Temporal,
    settings: AppSettings,
    app: State,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JSONResponse:
    """Start the deal; the answer carries its first stage's tasks."""
    require_seller(user)
    terms = app.pipelines.get(body.pipeline)
    if terms is None:
        known = ", ".join(sorted(app.pipelines)) or "none"
        raise invalid("pipeline", f"no pipeline '{body.pipeline}' (known: {known})")
    guarded = sorted(set(body.fields) & set(terms.approval_fields))
    if guarded:
        reason = "set by completing the approval task, not by hand"
        raise Problem(
            403,
            "forbidden",
            f"{', '.join(guarded)}: {reason}",
            errors=[{"field": f"fields.{name}", "reason": reason} for name in guarded],
        )
    try:  # a customer the caller may not see is answered like one that does not exist
        customer = await access.live_customer(db, user, body.customer_id)
    except NotVisible:
        raise invalid("customer_id", "no such customer") from None
    await check_ownership(db, customer, user.username)
    digest = body_hash(body)
    deal_id = workflow_key(KEY_NAMESPACE, user.username, idempotency_key)
    start = DealStart(
        deal_id=deal_id,
        pipeline=body.pipeline,
        title=body.title,
        owner=await actor_of(user, db),
        customer=await customer_facts(db, customer),
        customer_id=customer.id,
        amount=body.amount,
        currency=body.currency,
        fields=body.fields,
        body_hash=digest,
    )
    await db.commit()  # no transaction held open across the workflow call
    operation = WithStartWorkflowOperation(
        DealWorkflow.run,
        start,
        id=f"deal-{deal_id}",
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    try:
        view = await update_with_start(
            temporal,
            DealWorkflow.create,
            Intake(body_hash=digest),
            operation,
            settings.intake_deadline,
        )
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        location = f"/api/v1/deals/{deal_id}"
        return await accepted(
            temporal, f"deal-{deal_id}", deal_id, location, settings.intake_deadline
        )
    except WorkflowUpdateFailedError as exc:
        problem = to_problem(exc)
        if problem.code == "unknown_pipeline":
            raise invalid("pipeline", problem.detail) from exc
        raise problem from exc
    except WorkflowAlreadyStartedError:
        # The key's deal is over (won, lost or failed to start): answer it, never a 5xx.
        return await finished_deal(db, deal_id, body)
    if customer.account_manager is None and user.role == Role.MANAGER:
        customer.account_manager = user.username  # the deal makes the customer theirs
        await db.commit()
    return JSONResponse(DealOut(**dict(view)).model_dump(mode="json"), status_code=201)


async def finished_deal(db: AsyncSession, deal_id: str, body: DealIn) -> JSONResponse:
    row = await db.get(Deal, deal_id)
    same = row is not None and (row.customer_id, row.pipeline, row.title) == (
        body.customer_id,
        body.pipeline,
        body.title,
    )
    if row is None or not same:
        raise Problem(
            409, "idempotency_key_reused", "this Idempotency-Key was used for another deal"
        )
    return JSONResponse((await from_row(db, row)).model_dump(mode="json"), status_code=201)


@router.get("/deals", response_model=Page[DealOut], operation_id="list_deals")
async def list_deals(
    db: DbSession,
    user: CurrentUser,
    stage: str | None = None,
    owner: str | None = None,
    status: Literal["open", "won", "lost"] | None = None,
    pipeline: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[DealOut]:
    query = select(Deal).where(access.where(Kind.DEAL, user))
    filters = ((Deal.stage, stage), (Deal.owner, owner), (Deal.status, status))
    for column, value in (*filters, (Deal.pipeline, pipeline)):
        if value is not None:
            query = query.where(column == value)
    rows, next_cursor = await keyset(db, query, [Deal.id], limit=limit, cursor=cursor)
    return Page(items=[await from_row(db, row) for row in rows], next_cursor=next_cursor)


async def from_row(db: AsyncSession, row: Deal) -> DealOut:
    tasks = await db.scalars(
        select(DealTask).where(DealTask.deal_id == row.id).order_by(DealTask.task_id)
    )
    return DealOut(
        id=row.id,
        workflow_id=row.workflow_id,
        pipeline=row.pipeline,
        title=row.title,
        owner=row.owner,
        customer_id=row.customer_id,
        amount=row.amount,
        currency=row.currency,
        stage=row.stage,
        stage_title=row.stage,
        status=cast(DealStatus, row.status),
        fields=row.fields,
        tasks=[
            Task.model_validate(
                {
                    "id": t.task_id,
                    "stage": t.stage,
                    "title": t.title,
                    "type": t.type,
                    "assignee_role": "",
                    "assignee": t.assignee,
                    "due_at": t.due_at,
                    "blocking": t.blocking,
                    "status": t.status,
                    "result": t.result,
                    "reason": t.reason,
                    "closed_by": t.closed_by,
                    "reminded_at": t.reminded_at,
                    "overdue_at": t.overdue_at,
                }
            )
            for t in tasks
        ],
        missing=[],
        created_at=row.created_at,
        last_seq=row.last_seq,
        runs=0,
    )


@router.get("/deals/{deal_id}", response_model=DealOut, operation_id="get_deal")
async def get_deal(deal_id: str, db: DbSession, user: CurrentUser, temporal: Temporal) -> DealOut:
    row = await access.deal(db, user, deal_id)
    try:
        view = await temporal.get_workflow_handle(row.workflow_id).query(DealWorkflow.view)
    except RPCError:
        return await from_row(db, row)
    return DealOut(**dict(view))


async def act(
    db: AsyncSession, user: User, temporal: Any, deal_id: str, action: dict[str, Any]
) -> DealOut:
    row = await access.deal(db, user, deal_id)
    if action["name"] in ("advance", "win"):  # gates read the profile as it is now
        customer = await db.get(Customer, row.customer_id)
        if customer is not None:
            action = {**action, "customer": await customer_facts(db, customer)}
    request = DealAction.model_validate({**action, "actor": await actor_of(user, db)})
    await db.commit()
    try:
        view = await temporal.get_workflow_handle(row.workflow_id).execute_update(
            DealWorkflow.act, request
        )
    except WorkflowUpdateFailedError as exc:
        raise to_problem(exc) from exc
    except RPCError as exc:
        raise Problem(409, "illegal_transition", f"the deal is {row.status}") from exc
    return DealOut(**dict(view))


class FieldsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    fields: dict[str, Scalar] = Field(min_length=1)


class AdvanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_stage: str | None = None


class BackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_stage: str
    reason: str = Field(min_length=1, max_length=2000)


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=2000)


@router.patch("/deals/{deal_id}", response_model=DealOut, operation_id="patch_deal")
async def patch_deal(
    deal_id: str, body: FieldsIn, db: DbSession, user: CurrentUser, temporal: Temporal
) -> DealOut:
    """Change fields (recorded with who and when in the deal's history)."""
    return await act(db, user, temporal, deal_id, {"name": "patch", "fields": body.fields})


@router.post(
    "/deals/{deal_id}/advance",
    response_model=DealOut,
    operation_id="advance_deal",
    responses={409: {"description": "stage_requirements_unmet, with `missing`"}},
)
async def advance(
    deal_id: str,
    db: DbSession,
    user: CurrentUser,
    temporal: Temporal,
    body: AdvanceIn | None = None,
) -> DealOut:
    data = (body or AdvanceIn()).model_dump()
    return await act(db, user, temporal, deal_id, {"name": "advance", **data})


@router.post("/deals/{deal_id}/back", response_model=DealOut, operation_id="deal_back")
async def back(
    deal_id: str, body: BackIn, db: DbSession, user: CurrentUser, temporal: Temporal
) -> DealOut:
    return await act(db, user, temporal, deal_id, {"name": "back", **body.model_dump()})


async def close(
    deal_id: str,
    outcome: Literal["win", "lose"],
    db: DbSession,
    user: CurrentUser,
    temporal: Temporal,
    body: ReasonIn | None = None,
) -> DealOut:
    reason = (body or ReasonIn()).reason
    return await act(db, user, temporal, deal_id, {"name": outcome, "reason": reason})


@router.post("/deals/{deal_id}/win", response_model=DealOut, operation_id="win_deal")
async def win(
    deal_id: str,
    db: DbSession,
    user: CurrentUser,
    temporal: Temporal,
    body: ReasonIn | None = None,
) -> DealOut:
    """Close the deal as won: at its last stage, with every requirement met."""
    return await close(deal_id, "win", db, user, temporal, body)


@router.post("/deals/{deal_id}/lose", response_model=DealOut, operation_id="lose_deal")
async def lose(
    deal_id: str,
    db: DbSession,
    user: CurrentUser,
    temporal: Temporal,
    body: ReasonIn | None = None,
) -> DealOut:
    """Close the deal as lost (the reason is required)."""
    return await close(deal_id, "lose", db, user, temporal, body)
