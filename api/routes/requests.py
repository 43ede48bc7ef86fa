"""Requests (cases): intake through update-with-start, actions as workflow updates."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api import examples, offer_triggers
from api.actions import PRIORITIES
from api.bounds import RowId
from api.deadline import accepted, update_with_start
from api.deps import AppSettings, CurrentUser, DbSession, Temporal, actor_of
from api.deps import State as App
from api.idempotency import workflow_key
from api.pagination import Cursor, Limit, Page
from api.problems import Problem, invalid
from api.queue_views import ViewCode, views_for
from api.request_reads import (
    EventOut,
    RequestFilters,
    counts,
    event_page,
    request_now,
    request_page,
)
from api.request_views import (
    RequestOut,
    allowed_for,
    out,
    view_from_row,
)
from api.routes.intake import IntakeIn, ProofIn, evaluate, fields_problem
from api.state import AppState
from api.temporal_errors import to_problem
from caseflow import access
from caseflow.access import Kind, NotVisible
from caseflow.customers import identity
from caseflow.models import Customer, CustomerContact, Request, User
from caseflow.payloads import (
    Intake,
    MailFacts,
    RequestStart,
)
from caseflow.platform.logs import WORKFLOW_ID
from caseflow.platform.settings import Settings
from caseflow.requests.lifecycle import Line, State
from caseflow.routing.samples import facts_of
from workflows.request import RequestWorkflow

router = APIRouter(prefix="/requests", tags=["requests"])

# Idempotency keys map to request ids in this namespace (per caller), so a retried POST
# finds the same workflow id.
KEY_NAMESPACE = uuid.UUID("5b0c4c8e-8f0c-4a47-9a39-6f1d3f3c2a10")


class CustomerMatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inn: str | None = None
    kpp: str | None = None
    ogrn: str | None = None
    phone: str | None = None
    email: str | None = None


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [examples.REQUEST]})

    customer_id: str | None = None
    customer: CustomerMatch | None = None
    channel: Literal["phone", "email", "chat", "web", "messenger", "visit", "letter", "api"]
    topic: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_.-]+$")
    subtopic: str | None = Field(default=None, max_length=64)
    priority: PRIORITIES | None = Field(
        default=None, description="the topic's default if not given"
    )
    subject: str = Field(min_length=1, max_length=300)
    description: str = Field(min_length=1, max_length=20000)
    contact_id: RowId | None = Field(default=None, description="the representative calling")
    proofs: list[ProofIn] = Field(
        default_factory=list, max_length=20, description="what the caller proved"
    )
    fields: dict[str, Any] = Field(default_factory=dict, description="the topic's fields")

    @field_validator("proofs", mode="before")
    @classmethod
    def _kinds(cls, value: Any) -> Any:
        return IntakeIn._kinds(value)

    @model_validator(mode="after")
    def _one_customer(self) -> RequestIn:
        if (self.customer_id is None) == (self.customer is None):
            raise ValueError("give either customer_id or customer (match keys), not both")
        return self


# --- intake --------------------------------------------------------------------------------


async def resolve_customer(db: AsyncSession, user: User, body: RequestIn) -> Customer:
    """The customer the request is for, among those the caller may see: one they may not
    see is answered exactly like one that does not exist."""
    if body.customer_id is not None:
        try:
            return await access.live_customer(db, user, body.customer_id)
        except NotVisible:
            raise invalid("customer_id", "no such customer") from None
    assert body.customer is not None
    keys = body.customer
    query = select(Customer).where(access.where(Kind.CUSTOMER, user))
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
    app: App,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JSONResponse:
    return await register(body, db, user, temporal, settings, app, idempotency_key)


async def register(
    body: RequestIn,
    db: AsyncSession,
    user: User,
    temporal: Client,
    settings: Settings,
    app: AppState,
    idempotency_key: str | None = None,
    mail: MailFacts | None = None,
) -> JSONResponse:
    """Intake: the customer resolved, the topic's checks, then update-with-start; `mail`:
    what routing rules may test of a request that came by e-mail."""
    customer = await resolve_customer(db, user, body)
    actor = await actor_of(user, db)
    digest = intake_hash(body, customer.id)
    priority, unidentified, allowed, levels = body.priority or "normal", False, "public", {}
    if app.topics.topics:  # guided intake: required fields, identification, authority
        check_body = IntakeIn(
            customer_id=customer.id,
            contact_id=body.contact_id,
            topic=body.topic,
            proofs=body.proofs,
            fields=body.fields,
        )
        result, _ = await evaluate(db, user, app.topics, check_body, customer=customer)
        if result.missing_fields or result.invalid_fields:
            raise fields_problem(result)
        topic = app.topics.topics[body.topic]
        priority = body.priority or topic.default_priority
        unidentified, allowed = not result.authorised, result.disclosure_allowed
        levels = {name: spec.disclosure for name, spec in topic.fields.items()}
    request_id = workflow_key(KEY_NAMESPACE, user.username, idempotency_key)
    start = RequestStart(
        request_id=request_id,
        body_hash=digest,
        customer=facts_of(customer),
        channel=body.channel,
        topic=body.topic,
        subtopic=body.subtopic,
        priority=priority,
        subject=body.subject,
        description=body.description,
        created_by=actor,
        auto_close_after=settings.auto_close_after,
        fields=body.fields,
        field_disclosure=levels,
        contact_id=body.contact_id,
        unidentified=unidentified,
        disclosure_allowed=allowed,
        resolving_line=app.topics.topics[body.topic].resolving_line
        if body.topic in app.topics.topics
        else None,
        mail=mail,
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
    WORKFLOW_ID.set(f"request-{request_id}")
    shown: Request | RequestStart = start
    try:
        view = await update_with_start(
            temporal,
            RequestWorkflow.intake,
            Intake(body_hash=digest),
            operation,
            settings.intake_deadline,
        )
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        workflow_id, location = f"request-{request_id}", f"/api/v1/requests/{request_id}"
        return await accepted(temporal, workflow_id, request_id, location, settings.intake_deadline)
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
        shown = row  # the first intake's answer, from its row
    answer = out(view, await allowed_for(db, user, view), shown, user)
    await offer_triggers.fire(temporal, settings.task_queue, app.catalogue, customer.id, body.topic)
    return JSONResponse(answer.model_dump(mode="json"), status_code=201)


# --- reading -------------------------------------------------------------------------------


class ViewCount(BaseModel):
    code: ViewCode
    count: int


@router.get("/views", response_model=list[ViewCount], operation_id="request_views")
async def request_views(db: DbSession, user: CurrentUser) -> list[ViewCount]:
    """The caller's queue views (their own, their team's, waiting for the customer,
    breached, all open: overseers and people without a team have no team view) and how many
    requests each holds now; list one with `GET /requests?view=`."""
    shown = views_for(user)
    numbers = await counts(db, user, {v.code: v.filters(user) for v in shown})
    return [ViewCount(code=v.code, count=numbers[v.code]) for v in shown]


@router.get("", response_model=Page[RequestOut], operation_id="list_requests")
async def list_requests(
    db: DbSession,
    user: CurrentUser,
    limit: Limit = 50,
    cursor: Cursor = None,
    view: Annotated[
        ViewCode | None,
        Query(
            description="one of the caller's views (GET /requests/views); other filters narrow it"
        ),
    ] = None,
    state: State | None = None,
    line: Line | None = None,
    queue: str | None = None,
    assignee: str | None = None,
    customer_id: str | None = None,
    breached: Annotated[
        bool | None, Query(description="with (true) or without (false) a breached SLA clock")
    ] = None,
    number: Annotated[str | None, Query(max_length=32, description="REQ-000212")] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="number, part of the subject or of the customer's name",
        ),
    ] = None,
) -> Page[RequestOut]:
    """`assignee=me`: the caller's own."""
    given = {
        "state": state,
        "line": line,
        "queue": queue,
        "assignee": assignee,
        "customer_id": customer_id,
        "breached": breached,
        "number": number,
        "q": q,
    }
    narrowed: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
    if view is None:
        filters = RequestFilters(**narrowed)
    else:
        chosen = next((v for v in views_for(user) if v.code == view), None)
        if chosen is None:
            raise invalid("view", "not one of your views (a team view needs a team)")
        base = chosen.filters(user)
        for name, value in narrowed.items():
            if getattr(base, name) not in (None, value):
                raise invalid(name, f"the view '{view}' fixes it already")
        filters = replace(base, **narrowed)
    return await request_page(db, user, filters, limit=limit, cursor=cursor)


RequestId = Annotated[str, Path(max_length=64)]


@router.get("/{request_id}", response_model=RequestOut, operation_id="get_request")
async def get_request(
    request_id: RequestId, db: DbSession, user: CurrentUser, temporal: Temporal, app: App
) -> RequestOut:
    return await request_now(db, user, temporal, app.calendars, request_id)


@router.get("/{request_id}/events", response_model=Page[EventOut], operation_id="request_events")
async def request_events(
    request_id: RequestId,
    db: DbSession,
    user: CurrentUser,
    limit: Limit = 200,
    cursor: Cursor = None,
) -> Page[EventOut]:
    return await event_page(db, user, request_id, limit=limit, cursor=cursor)
