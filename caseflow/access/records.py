"""One record as the viewer may see it: the row, or `NotVisible` (the edges answer "not
found", never a hint that it exists)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.access.rules import Kind, NotVisible, Viewer
from caseflow.access.where import where
from caseflow.models import (
    Absence,
    Customer,
    Deal,
    DealTask,
    Interaction,
    Notification,
    Representative,
    Request,
    RequestFile,
    User,
)

MODELS: dict[Kind, type[Any]] = {
    Kind.CUSTOMER: Customer,
    Kind.REQUEST: Request,
    Kind.DEAL: Deal,
    Kind.TASK: DealTask,
    Kind.NOTE: Interaction,
    Kind.FILE: RequestFile,
    Kind.NOTIFICATION: Notification,
    Kind.REPRESENTATIVE: Representative,
    Kind.PERSON: User,
    Kind.ABSENCE: Absence,
}


async def seen(db: AsyncSession, viewer: Viewer, kind: Kind, *criteria: ColumnElement[bool]) -> Any:
    """The one record of `kind` matching `criteria` that the viewer may see."""
    row = await db.scalar(select(MODELS[kind]).where(*criteria, where(kind, viewer)).limit(1))
    if row is None:
        raise NotVisible(kind)
    return row


async def may_see(
    db: AsyncSession, viewer: Viewer, kind: Kind, *criteria: ColumnElement[bool]
) -> bool:
    """Whether a record of `kind` matching `criteria` exists that the viewer may see."""
    found = await db.scalar(select(exists().where(*criteria, where(kind, viewer))))
    return bool(found)


MERGE_DEPTH = 10  # a survivor merged in turn is followed this far


async def request(db: AsyncSession, viewer: Viewer, request_id: str) -> Request:
    row: Request = await seen(db, viewer, Kind.REQUEST, Request.id == request_id)
    return row


async def customer(db: AsyncSession, viewer: Viewer, customer_id: str) -> Customer:
    row: Customer = await seen(db, viewer, Kind.CUSTOMER, Customer.id == customer_id)
    return row


async def live_customer(db: AsyncSession, viewer: Viewer, customer_id: str) -> Customer:
    """The customer a new record goes to: a profile merged into another is its survivor
    (which the viewer must be able to see as well)."""
    row = await customer(db, viewer, customer_id)
    for _ in range(MERGE_DEPTH):
        if row.merged_into is None:
            break
        row = await customer(db, viewer, row.merged_into)
    return row


async def deal(db: AsyncSession, viewer: Viewer, deal_id: str) -> Deal:
    row: Deal = await seen(db, viewer, Kind.DEAL, Deal.id == deal_id)
    return row


async def person(db: AsyncSession, viewer: Viewer, username: str) -> User:
    row: User = await seen(db, viewer, Kind.PERSON, User.username == username)
    return row
