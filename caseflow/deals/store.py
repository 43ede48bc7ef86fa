"""Deals in the database: the row a deal starts with, its projection, who already works a
customer.

Every write is idempotent (activities retry): a deal row is created once and only moves
forward by `last_seq`, tasks are upserted by their number, events are kept once by seq.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.customers import profile
from caseflow.deals.gates import DealSnapshot, DealStart, Task
from caseflow.deals.pipelines import PipelineTerms
from caseflow.models import Customer, Deal, DealEventRow, DealTask, User
from caseflow.people.store import zone_supervisors
from caseflow.platform import bulk
from caseflow.requests.lifecycle import Role


async def register(session: AsyncSession, start: DealStart, terms: PipelineTerms) -> datetime:
    """The deal's row, written once; its creation time (the workflow's, so due times of
    tasks count from the creation shown)."""
    existing = await session.get(Deal, start.deal_id)
    if existing is not None:
        return existing.created_at
    now = start.at or datetime.now(UTC)
    session.add(
        Deal(
            id=start.deal_id,
            workflow_id=f"deal-{start.deal_id}",
            pipeline=terms.name,
            title=start.title,
            owner=start.owner.username,
            customer_id=await profile.survivor_of(session, start.customer_id),
            amount=start.amount,
            currency=start.currency,
            stage=terms.stages[0].code,
            status="open",
            fields=start.fields,
            last_seq=0,
            created_at=now,
            updated_at=now,
        )
    )
    return now


async def supervisor_of(session: AsyncSession, team: str | None) -> str | None:
    """The supervisor whose zone holds the owner's team, else the first active one."""
    supervisors = await zone_supervisors(session, team)
    if not supervisors:
        supervisors = list(
            await session.scalars(
                select(User.username)
                .where(User.role == Role.SUPERVISOR, User.active.is_(True))
                .order_by(User.username)
            )
        )
    return supervisors[0] if supervisors else None


DEALS = cast(Table, Deal.__table__)
# The deal's row moved forward by a newer step, built once (every step of every deal runs
# it; the values are its parameters).
MOVING = (
    update(DEALS)
    .where(DEALS.c.id == bindparam("deal_id"), DEALS.c.last_seq < bindparam("newer_than"))
    .returning(DEALS.c.id)
)


async def project(session: AsyncSession, snapshot: DealSnapshot) -> None:
    """The deal's row, tasks and new events as the workflow holds them; a snapshot older
    than what the row shows (a retry arriving late) adds only the events it carries."""
    view = snapshot.view
    moved = await session.scalar(
        MOVING,
        {
            "deal_id": view.id, "newer_than": view.last_seq, "stage": view.stage,
            "status": view.status, "fields": view.fields, "last_seq": view.last_seq,
            "updated_at": datetime.now(UTC),
        },
    )  # fmt: skip
    if view.status == "won":  # a won deal makes the prospect a client
        await session.execute(
            update(Customer)
            .where(Customer.id == view.customer_id, Customer.status == "prospect")
            .values(status="client")
        )
        now = datetime.now(UTC)
        await profile.note(session, view.customer_id, "deal", "status", "client", now)
    # Tasks as the newest step has them (an older step's late retry leaves them be), new
    # events kept once: one statement each, whatever the count.
    if moved is not None:
        await bulk.upsert(
            session, DealTask, [{"deal_id": view.id, **_task_values(task)} for task in view.tasks]
        )
    await bulk.insert_all_new(
        session,
        DealEventRow,
        [
            {"deal_id": view.id, **event.model_dump(mode="json"), "at": event.at}
            for event in snapshot.events
        ],
    )


async def customer_facts(session: AsyncSession, customer: Customer) -> dict[str, Any]:
    """What a deal's gates read of its customer: the profile as it is now."""
    held = await profile.contacts(session, customer.id)
    return {
        "kind": customer.kind,
        "name": customer.name,
        "inn": customer.inn,
        "kpp": customer.kpp,
        "ogrn": customer.ogrn,
        "segment": customer.segment,
        "tier": customer.tier,
        "region": customer.region,
        "email": next(iter(held["emails"]), None),
        "phone": next(iter(held["phones"]), None),
    }


async def full_name(session: AsyncSession, username: str) -> str | None:
    return await session.scalar(select(User.full_name).where(User.username == username))


async def owner_unit(session: AsyncSession, username: str, customer: Customer) -> str:
    team = await session.scalar(select(User.team_code).where(User.username == username))
    return customer.contract_unit or team or "sales"


async def worked_by_other(session: AsyncSession, customer: Customer, owner: str) -> str | None:
    """One client, one manager: the unit of another manager who holds this customer (as its
    account or personal manager, or by an open deal), or None if `owner` may start one."""
    holders = {customer.account_manager, customer.personal_manager} - {None}
    managers = set(
        await session.scalars(
            select(User.username).where(User.username.in_(holders), User.role == Role.MANAGER)
        )
    )
    other_deal = await session.scalar(
        select(Deal.owner).where(
            Deal.customer_id == customer.id, Deal.status == "open", Deal.owner != owner
        )
    )
    taken = (managers - {owner}) or ({other_deal} if other_deal else set())
    if not taken:
        return None
    return await owner_unit(session, sorted(taken)[0], customer)


def _task_values(task: Task) -> dict[str, Any]:
    return {
        "task_id": task.id, "stage": task.stage, "title": task.title, "type": task.type,
        "assignee": task.assignee, "due_at": task.due_at, "blocking": task.blocking,
        "status": task.status, "result": task.result, "reason": task.reason,
        "closed_by": task.closed_by, "reminded_at": task.reminded_at,
        "overdue_at": task.overdue_at,
    }  # fmt: skip
