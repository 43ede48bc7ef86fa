"""Requests (cases): intake through update-with-start, actions as workflow updates."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.config import JsonDict
from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import (
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api.deps import AppSettings, CurrentUser, DbSession, Temporal, actor_of
from api.pagination import Cursor, Limit, Page, decode, encode
from api.problems import Problem, invalid, not_found
from api.temporal_errors import finished, to_problem
from caseflow import identity
from caseflow.lifecycle import ACTIONS, Line, Role, State, allowed_actions
from caseflow.models import Customer, CustomerContact, Request, RequestEvent, Team, User
from caseflow.payloads import (
    Action,
    Assignment,
    CustomerFacts,
    Intake,
    RequestStart,
    RequestView,
)
from workflows.request import RequestWorkflow

router = APIRouter(prefix="/requests", tags=["requests"])

# Idempotency keys map to request ids in this namespace (per caller), so a retried POST
# finds the same workflow id.
KEY_NAMESPACE = uuid.UUID("5b0c4c8e-8f0c-4a47-9a39-6f1d3f3c2a10")
PRIORITIES = Literal["low", "normal", "high", "critical"]

REQUEST_EXAMPLE: JsonDict = {
    "customer_id": "9d7f0f7e-3d4b-4a53-a1c8-2f1c2b2a9f10",
    "channel": "phone",
    "topic": "consultation",
    "subject": "Как подключить тариф?",
    "description": "Клиент спрашивает о подключении тарифа «Бизнес».",
}


class CustomerMatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inn: str | None = None
    kpp: str | None = None
    ogrn: str | None = None
    phone: str | None = None
    email: str | None = None


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [REQUEST_EXAMPLE]})

    customer_id: str | None = None
    customer: CustomerMatch | None = None
    channel: Literal["phone", "email", "chat", "web", "messenger", "visit", "letter", "api"]
    topic: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_.-]+$")
    subtopic: str | None = Field(default=None, max_length=64)
    priority: PRIORITIES = "normal"
    subject: str = Field(min_length=1, max_length=300)
    description: str = Field(min_length=1, max_length=20000)

    @model_validator(mode="after")
    def _one_customer(self) -> RequestIn:
        if (self.customer_id is None) == (self.customer is None):
            raise ValueError("give either customer_id or customer (match keys), not both")
        return self


class RequestOut(RequestView):
    """The live view of a request, with what the caller may do next."""

    sla: dict[str, Any] | None = Field(
        default=None, description="SLA clocks; null until SLA policies are configured"
    )
    allowed_actions: list[str]


class EventOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    actor_role: str
    action: str
    from_state: str | None
    to_state: str
    line: str
    queue: str | None
    assignee: str | None
    reason: str | None
    data: dict[str, Any]


# --- action bodies: each action names the fields it needs ---------------------------------


class NoBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CommentBody(NoBody):
    text: str = Field(min_length=1, max_length=20000)
    public: bool = False


class MessageBody(NoBody):
    message: str = Field(min_length=1, max_length=20000)


class ResolveBody(NoBody):
    resolution: str = Field(min_length=1, max_length=20000)


class ReasonBody(NoBody):
    reason: str = Field(min_length=1, max_length=2000)


class EscalateBody(ReasonBody):
    to_line: Literal["L2", "L3"]
    queue: str | None = None


class ReassignBody(ReasonBody):
    assignee: str | None = None
    queue: str | None = None

    @model_validator(mode="after")
    def _target(self) -> ReassignBody:
        if not (self.assignee or self.queue):
            raise ValueError("give an assignee or a queue")
        return self


class PriorityBody(ReasonBody):
    priority: PRIORITIES


BODIES: dict[str, type[NoBody]] = {
    "take": NoBody,
    "start": NoBody,
    "close": NoBody,
    "comment": CommentBody,
    "request-info": MessageBody,
    "customer-reply": MessageBody,
    "resolve": ResolveBody,
    "reopen": ReasonBody,
    "cancel": ReasonBody,
    "escalate": EscalateBody,
    "return": ReasonBody,
    "reassign": ReassignBody,
    "set-priority": PriorityBody,
}
assert set(BODIES) == set(ACTIONS)


def to_action(name: str, body: NoBody, user: Any) -> Action:
    fields = body.model_dump()
    return Action(
        name=name,
        actor=user,
        text=fields.get("text") or fields.get("message") or fields.get("resolution"),
        public=fields.get("public", False),
        reason=fields.get("reason"),
        to_line=fields.get("to_line"),
        queue=fields.get("queue"),
        assignee=fields.get("assignee"),
        priority=fields.get("priority"),
    )


# --- visibility ----------------------------------------------------------------------------


def visible(query: Select[Any], user: User) -> Select[Any]:
    """Operators see L1 and what they registered; agents their team; supervisors their zone."""
    role = Role(user.role)
    mine = or_(Request.created_by == user.username, Request.assignee == user.username)
    if role == Role.ADMIN:
        return query
    if role == Role.OPERATOR:
        return query.where(or_(Request.line == Line.L1, mine))
    if role == Role.AGENT:
        return query.where(or_(Request.queue == user.team_code, mine))
    if role == Role.SUPERVISOR:
        in_regions = Request.customer_id.in_(
            select(Customer.id).where(Customer.region.in_(user.zone_regions or []))
        )
        return query.where(or_(Request.queue.in_(user.zone_teams or []), in_regions, mine))
    return query.where(mine)


async def load_visible(db: AsyncSession, user: User, request_id: str) -> Request:
    row = await db.scalar(visible(select(Request).where(Request.id == request_id), user))
    if row is None:
        raise not_found("request")
    return row


def out(view: RequestView, allowed: list[str]) -> RequestOut:
    return RequestOut(**dict(view), allowed_actions=allowed)


def view_from_row(row: Request) -> RequestView:
    """The read model's picture, for requests whose workflow history is gone."""
    assignment = None
    if row.assignment_rule:
        assignment = Assignment(
            line=Line(row.line),
            queue=row.queue,
            assignee=row.assignee,
            rule=row.assignment_rule,
            explanation=row.assignment_explanation or "",
        )
    return RequestView(
        id=row.id,
        workflow_id=row.workflow_id,
        number=row.number,
        state=State(row.state),
        line=Line(row.line),
        queue=row.queue,
        assignee=row.assignee,
        priority=row.priority,
        channel=row.channel,
        topic=row.topic,
        subtopic=row.subtopic,
        subject=row.subject,
        customer_id=row.customer_id,
        created_by=row.created_by,
        registered_at=row.created_at,
        assignment=assignment,
        escalations=[],
        auto_close_at=None,
        last_seq=row.last_seq,
    )


async def allowed_for(db: AsyncSession, user: User, view: RequestView) -> list[str]:
    actor = await actor_of(user, db)
    line_access = actor.role in (Role.SUPERVISOR, Role.ADMIN) or view.line in actor.lines
    return allowed_actions(
        state=view.state,
        role=actor.role,
        line_access=line_access,
        can_return=bool(view.escalations),
        line=view.line,
    )


# --- intake --------------------------------------------------------------------------------


async def resolve_customer(db: AsyncSession, body: RequestIn) -> Customer:
    if body.customer_id is not None:
        customer = await db.get(Customer, body.customer_id)
        if customer is None:
            raise invalid("customer_id", "no such customer")
        return customer
    assert body.customer is not None
    keys = body.customer
    query = select(Customer)
    try:
        if keys.inn and keys.kpp:
            query = query.where(Customer.inn_kpp_key == f"{identity.inn(keys.inn)}/{keys.kpp}")
        elif keys.ogrn:
            query = query.where(Customer.ogrn == identity.ogrn(keys.ogrn))
        elif keys.phone or keys.email:
            kind = "phone" if keys.phone else "email"
            value = identity.phone(keys.phone) if keys.phone else identity.email(keys.email or "")
            query = query.where(
                Customer.id.in_(
                    select(CustomerContact.customer_id).where(
                        CustomerContact.kind == kind, CustomerContact.value == value
                    )
                )
            )
        elif keys.inn:
            query = query.where(Customer.inn == identity.inn(keys.inn))
        else:
            raise invalid("customer", "give inn+kpp, ogrn, phone or email to find the customer")
    except identity.InvalidIdentifier as exc:
        raise invalid("customer", str(exc)) from exc
    found = list((await db.scalars(query.limit(2))).all())
    if len(found) != 1:
        reason = "no customer matches" if not found else "several customers match; use customer_id"
        raise invalid("customer", reason)
    return found[0]


def intake_hash(body: RequestIn, customer_id: str) -> str:
    data = body.model_dump(mode="json", exclude={"customer", "customer_id"})
    data["customer_id"] = customer_id
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


@router.post(
    "",
    status_code=201,
    response_model=RequestOut,
    operation_id="register_request",
    responses={409: {"description": "idempotency_key_reused"}},
)
async def register_request(
    body: RequestIn,
    db: DbSession,
    user: CurrentUser,
    temporal: Temporal,
    settings: AppSettings,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JSONResponse:
    customer = await resolve_customer(db, body)
    actor = await actor_of(user, db)
    digest = intake_hash(body, customer.id)
    request_id = str(
        uuid.uuid5(KEY_NAMESPACE, f"{user.username}:{idempotency_key}")
        if idempotency_key
        else uuid.uuid4()
    )
    start = RequestStart(
        request_id=request_id,
        body_hash=digest,
        customer=CustomerFacts(
            id=customer.id,
            name=customer.name,
            kind=customer.kind,
            region=customer.region,
            segment=customer.segment,
            tier=customer.tier,
            personal_manager=customer.personal_manager,
            contract_unit=customer.contract_unit,
            status=customer.status,
            planned_volume=customer.planned_volume,
            account_manager=customer.account_manager,
        ),
        channel=body.channel,
        topic=body.topic,
        subtopic=body.subtopic,
        priority=body.priority,
        subject=body.subject,
        description=body.description,
        created_by=actor,
        auto_close_after=settings.auto_close_after,
    )
    operation = WithStartWorkflowOperation(
        RequestWorkflow.run,
        start,
        id=f"request-{request_id}",
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        # A finished request's id is never reused: the key keeps naming that request.
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    await db.commit()  # no transaction held open across the workflow call
    try:
        view = await temporal.execute_update_with_start_workflow(
            RequestWorkflow.intake,
            Intake(body_hash=digest),
            start_workflow_operation=operation,
        )
    except WorkflowUpdateFailedError as exc:
        raise to_problem(exc) from exc
    except WorkflowAlreadyStartedError:
        row = await db.scalar(select(Request).where(Request.id == request_id))
        if row is None:
            raise
        if row.intake_hash != digest:
            raise Problem(
                409, "idempotency_key_reused", "this Idempotency-Key was used for another request"
            ) from None
        view = view_from_row(row)
    result = out(view, await allowed_for(db, user, view))
    return JSONResponse(result.model_dump(mode="json"), status_code=201)


# --- reading -------------------------------------------------------------------------------


@router.get("", response_model=Page[RequestOut], operation_id="list_requests")
async def list_requests(
    db: DbSession,
    user: CurrentUser,
    limit: Limit = 50,
    cursor: Cursor = None,
    state: State | None = None,
    line: Line | None = None,
    queue: str | None = None,
    assignee: str | None = None,
    customer_id: str | None = None,
) -> Page[RequestOut]:
    query = visible(select(Request), user)
    for column, value in (
        (Request.state, state),
        (Request.line, line),
        (Request.queue, queue),
        (Request.assignee, assignee),
        (Request.customer_id, customer_id),
    ):
        if value is not None:
            query = query.where(column == value)
    after = decode(cursor)
    if after is not None:
        if not isinstance(after, int):
            raise invalid("cursor", "not a cursor this API gave out")
        query = query.where(Request.seq_no < after)
    rows = list((await db.scalars(query.order_by(Request.seq_no.desc()).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    items = []
    for row in rows:
        view = view_from_row(row)
        items.append(out(view, await allowed_for(db, user, view)))
    return Page(items=items, next_cursor=encode(rows[-1].seq_no) if more else None)


RequestId = Annotated[str, Path(max_length=64)]


@router.get("/{request_id}", response_model=RequestOut, operation_id="get_request")
async def get_request(
    request_id: RequestId, db: DbSession, user: CurrentUser, temporal: Temporal
) -> RequestOut:
    row = await load_visible(db, user, request_id)
    try:
        view = await temporal.get_workflow_handle(row.workflow_id).query(RequestWorkflow.view)
    except RPCError:
        view = view_from_row(row)  # history past retention: the read model still answers
    return out(view, await allowed_for(db, user, view))


@router.get("/{request_id}/events", response_model=Page[EventOut], operation_id="request_events")
async def request_events(
    request_id: RequestId,
    db: DbSession,
    user: CurrentUser,
    limit: Limit = 200,
    cursor: Cursor = None,
) -> Page[EventOut]:
    row = await load_visible(db, user, request_id)
    query = select(RequestEvent).where(RequestEvent.workflow_id == row.workflow_id)
    after = decode(cursor)
    if after is not None:
        if not isinstance(after, int):
            raise invalid("cursor", "not a cursor this API gave out")
        query = query.where(RequestEvent.seq > after)
    events = list((await db.scalars(query.order_by(RequestEvent.seq).limit(limit + 1))).all())
    more = len(events) > limit
    events = events[:limit]
    return Page(
        items=[EventOut.model_validate(e, from_attributes=True) for e in events],
        next_cursor=encode(events[-1].seq) if more else None,
    )


# --- actions -------------------------------------------------------------------------------


async def check_targets(db: AsyncSession, body: NoBody) -> None:
    """Queues and people named in an action must exist: 422 naming the field, not a 5xx."""
    queue = getattr(body, "queue", None)
    if queue is not None:
        team = await db.get(Team, queue)
        if team is None:
            raise invalid("queue", f"no queue '{queue}'")
        to_line = getattr(body, "to_line", None)
        if to_line is not None and team.line != to_line:
            raise invalid("queue", f"queue '{queue}' belongs to {team.line}, not {to_line}")
    assignee = getattr(body, "assignee", None)
    if assignee is not None:
        person = await db.scalar(select(User).where(User.username == assignee))
        if person is None or not person.active:
            raise invalid("assignee", f"no active user '{assignee}'")


@router.post(
    "/{request_id}/{action}",
    response_model=RequestOut,
    operation_id="request_action",
    responses={
        403: {"description": "forbidden"},
        409: {"description": "illegal_transition, with `allowed`"},
    },
)
async def request_action(
    request_id: RequestId,
    action: Annotated[str, Path(description=", ".join(ACTIONS))],
    db: DbSession,
    user: CurrentUser,
    temporal: Temporal,
    payload: Annotated[dict[str, Any] | None, Body()] = None,
) -> RequestOut:
    model = BODIES.get(action)
    if model is None:
        raise not_found(f"action '{action}'")
    row = await load_visible(db, user, request_id)
    body = validate_body(model, payload or {})
    await check_targets(db, body)
    actor = await actor_of(user, db)
    await db.commit()
    try:
        view = await temporal.get_workflow_handle(row.workflow_id).execute_update(
            RequestWorkflow.act, to_action(action, body, actor)
        )
    except WorkflowUpdateFailedError as exc:
        raise to_problem(exc) from exc
    except RPCError as exc:
        problem = finished(exc)
        if problem is None:
            raise
        raise problem from exc
    return out(view, await allowed_for(db, user, view))


def validate_body(model: type[NoBody], payload: dict[str, Any]) -> NoBody:
    from pydantic import ValidationError

    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "reason": e["msg"]}
            for e in exc.errors()
        ]
        raise Problem(
            422,
            "validation_error",
            "; ".join(f"{e['field']}: {e['reason']}" for e in errors),
            errors=errors,
        ) from exc
