"""A customer's timeline: requests, their status changes, e-mails, call notes, deals and
the products recorded for them, newest first, in one paged SQL query over the read model."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import String, Subquery, case, cast, func, literal, select, union_all

from api.bounds import Moment
from api.deps import CurrentUser, DbSession
from api.pagination import Cursor, Limit, Page, keyset
from api.problems import invalid
from caseflow import access
from caseflow.access import Kind, NotVisible, Viewer
from caseflow.models import (
    Customer,
    CustomerProduct,
    Deal,
    Interaction,
    Notification,
    Request,
    RequestEvent,
)

router = APIRouter(prefix="/customers/{customer_id}/interactions", tags=["customers"])

Channel = Literal["phone", "email", "chat", "web", "messenger", "visit", "letter", "api", "system"]


class InteractionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Channel = "phone"
    category: Literal["call", "visit", "letter", "note"] = "call"
    comment: str = Field(min_length=1, max_length=10000)
    request_id: str | None = Field(default=None, max_length=36)
    at: Moment | None = Field(default=None, description="when it happened; now if not given")


class InteractionOut(BaseModel):
    time: datetime
    kind: Literal["request", "status", "email", "note", "deal", "product"]
    channel: str
    category: str
    status: str | None
    comment: str
    number: str | None = Field(description="the request it belongs to")
    link: str | None


def timeline(customer_id: str, viewer: Viewer) -> Subquery:
    """Every kind of contact as the same columns, for one customer: only what the viewer
    may see of each kind."""
    seen_requests = access.where(Kind.REQUEST, viewer)
    requests = select(
        Request.created_at.label("at"),
        literal("request").label("kind"),
        Request.id.label("ref"),
        Request.channel.label("channel"),
        literal("request").label("category"),
        Request.state.label("status"),
        Request.subject.label("comment"),
        Request.number.label("number"),
        Request.id.label("request_id"),
    ).where(Request.customer_id == customer_id, seen_requests)
    changes = (
        select(
            RequestEvent.at,
            literal("status"),
            cast(RequestEvent.id, String),
            literal("system"),
            RequestEvent.action,
            RequestEvent.to_state,
            func.coalesce(RequestEvent.reason, RequestEvent.action),
            Request.number,
            Request.id,
        )
        .join(Request, Request.id == RequestEvent.request_id)
        .where(
            Request.customer_id == customer_id,
            seen_requests,
            RequestEvent.action != "register",
            RequestEvent.from_state.is_distinct_from(RequestEvent.to_state),
        )
    )
    emails = (
        select(
            Notification.created_at,
            literal("email"),
            Notification.message_id,
            literal("email"),
            literal("email"),
            Notification.status,
            func.coalesce(Notification.subject, ""),
            Request.number,
            Notification.request_id,
        )
        .outerjoin(Request, Request.id == Notification.request_id)
        .where(Notification.customer_id == customer_id, access.where(Kind.NOTIFICATION, viewer))
    )
    notes = (
        select(
            Interaction.at,
            literal("note"),
            cast(Interaction.id, String),
            Interaction.channel,
            Interaction.category,
            literal(None, String),
            Interaction.comment,
            Request.number,
            Interaction.request_id,
        )
        .outerjoin(Request, Request.id == Interaction.request_id)
        .where(Interaction.customer_id == customer_id, access.where(Kind.NOTE, viewer))
    )
    deals = select(
        Deal.created_at,
        literal("deal"),
        Deal.id,
        literal("system"),
        literal("deal"),
        Deal.status + literal(": ") + Deal.stage,
        Deal.title,
        literal(None, String),
        literal(None, String),
    ).where(Deal.customer_id == customer_id, access.where(Kind.DEAL, viewer))
    products = (  # as recorded (from an import, a contract system, the API), seen with the profile
        select(
            CustomerProduct.as_of,
            literal("product"),
            cast(CustomerProduct.id, String),
            literal("system"),
            CustomerProduct.type,
            case((CustomerProduct.closed_on.is_(None), "open"), else_="closed"),
            CustomerProduct.name,
            literal(None, String),
            literal(None, String),
        )
        .join(Customer, Customer.id == CustomerProduct.customer_id)
        .where(CustomerProduct.customer_id == customer_id, access.where(Kind.CUSTOMER, viewer))
    )
    return union_all(requests, changes, emails, notes, deals, products).subquery("timeline")


def link_of(kind: str, ref: str, request_id: str | None) -> str | None:
    if kind == "deal":
        return f"/api/v1/deals/{ref}"
    if kind == "product":
        return None
    return f"/api/v1/requests/{request_id}" if request_id else None


@router.get("", response_model=Page[InteractionOut], operation_id="customer_interactions")
async def interactions(
    customer_id: str,
    db: DbSession,
    user: CurrentUser,
    channel: Channel | None = None,
    since: Moment | None = None,
    until: Moment | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[InteractionOut]:
    """Everything that happened with the customer, newest first: "what is the status of my
    request?" answered from one call."""
    await access.customer(db, user, customer_id)
    rows = timeline(customer_id, user)
    query = select(rows)
    if channel is not None:
        query = query.where(rows.c.channel == channel)
    if since is not None:
        query = query.where(rows.c.at >= since)
    if until is not None:
        query = query.where(rows.c.at < until)
    found, next_cursor = await keyset(
        db,
        query,
        [rows.c.at, rows.c.kind, rows.c.ref],
        limit=limit,
        cursor=cursor,
        descending=True,
        scalars=False,
    )
    items = [
        InteractionOut(
            time=r.at,
            kind=r.kind,
            channel=r.channel,
            category=r.category,
            status=r.status,
            comment=r.comment,
            number=r.number,
            link=link_of(r.kind, r.ref, r.request_id),
        )
        for r in found
    ]
    return Page(items=items, next_cursor=next_cursor)


@router.post("", status_code=201, response_model=InteractionOut, operation_id="add_interaction")
async def add_interaction(
    customer_id: str, body: InteractionIn, db: DbSession, user: CurrentUser
) -> InteractionOut:
    """Write down a call, visit or letter; it joins the customer's timeline (a merged
    profile's: its survivor's)."""
    customer_id = (await access.live_customer(db, user, customer_id)).id
    number = None
    if body.request_id is not None:
        try:
            request = await access.request(db, user, body.request_id)
        except NotVisible:
            request = None
        if request is None or request.customer_id != customer_id:
            raise invalid("request_id", "not a request of this customer")
        number = request.number
    note = Interaction(
        customer_id=customer_id,
        channel=body.channel,
        category=body.category,
        comment=body.comment,
        author=user.username,
        request_id=body.request_id,
    )
    if body.at is not None:
        note.at = body.at
    db.add(note)
    await db.commit()
    return InteractionOut(
        time=note.at,
        kind="note",
        channel=note.channel,
        category=note.category,
        status=None,
        comment=note.comment,
        number=number,
        link=f"/api/v1/requests/{body.request_id}" if body.request_id else None,
    )
