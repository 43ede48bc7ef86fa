"""Merging duplicate profiles into a survivor, and undoing it — the steps the merge
workflow runs, each one transaction and safe to run again.

A merge marks the duplicates as merged into the survivor first (from then on intake, lists
and e-mail go to the survivor), moves their facts to it (each keeps the profile it was
stated for) and recomputes its profile from all of them, then moves their requests, deals,
interactions, representatives and e-mails, recording every id it moved. An unmerge gives
each duplicate its facts back and moves back exactly what the merge moved.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.customers import profile
from caseflow.customers.merge_terms import MergeStart, Moved, Told
from caseflow.customers.survivorship import Survivorship
from caseflow.models import (
    Customer,
    CustomerConsent,
    CustomerContact,
    CustomerFact,
    CustomerMatchKey,
    CustomerMerge,
    CustomerProduct,
    Deal,
    Interaction,
    Notification,
    OfferOutcome,
    Representative,
    Request,
)
from caseflow.requests.lifecycle import FINAL_STATES

# kind → (table, its id column); every one has `customer_id`
MOVABLE: dict[str, Any] = {
    "requests": (Request, Request.id),
    "deals": (Deal, Deal.id),
    "interactions": (Interaction, Interaction.id),
    "representatives": (Representative, Representative.id),
    "notifications": (Notification, Notification.message_id),
    "consents": (CustomerConsent, CustomerConsent.id),
    "products": (CustomerProduct, CustomerProduct.id),
    "offer_outcomes": (OfferOutcome, OfferOutcome.id),
}


class MergeRefused(Exception):
    """Why these profiles cannot be merged (or this merge undone)."""


async def begin(db: AsyncSession, rules: Survivorship, start: MergeStart) -> None:
    """The duplicates merged into the survivor: marked, their facts moved, its profile
    recomputed. Again after a crash: what is done already is not done twice."""
    merge = await db.get(CustomerMerge, start.merge_id)
    if merge is not None and merge.status != "running":
        return
    now = datetime.now(UTC)
    if merge is None:
        db.add(
            CustomerMerge(
                id=start.merge_id, survivor_id=start.survivor, duplicate_ids=start.duplicates,
                reason=start.reason, by=start.actor.username, at=now, status="running",
                moved={d: Moved().model_dump() for d in start.duplicates},
            )
        )  # fmt: skip
        await db.flush()
    survivor = await _customer(db, start.survivor)
    await profile.materialise(db, survivor)
    for duplicate_id in start.duplicates:
        duplicate = await _customer(db, duplicate_id)
        await profile.materialise(db, duplicate)
        duplicate.merged_into = survivor.id
        facts = list(
            await db.scalars(
                select(CustomerFact.id).where(CustomerFact.customer_id == duplicate.id)
            )
        )
        await db.execute(
            update(CustomerFact).where(CustomerFact.id.in_(facts)).values(customer_id=survivor.id)
        )
        await _release_keys(db, duplicate)  # the survivor holds them from now on
        await _record(db, start.merge_id, duplicate_id, Moved(facts=facts))
    await db.flush()
    await profile.recompute(db, rules, survivor, "merge", start.actor.username, now, "merge")


async def move(db: AsyncSession, start: MergeStart, batch: int = 1000) -> tuple[int, list[Told]]:
    """One batch of the duplicates' records moved to the survivor (0: none left), and the
    running workflows among them to tell."""
    count = 0
    told: list[Told] = []
    for duplicate_id in start.duplicates:
        moved = Moved()
        for kind, (table, key) in MOVABLE.items():
            ids = list(
                await db.scalars(select(key).where(table.customer_id == duplicate_id).limit(batch))
            )
            if not ids:
                continue
            await db.execute(update(table).where(key.in_(ids)).values(customer_id=start.survivor))
            setattr(moved, kind, ids)
            told += await _running(db, kind, ids, start.survivor)
            count += len(ids)
        await _record(db, start.merge_id, duplicate_id, moved)
    return count, told


async def finish(db: AsyncSession, merge_id: str) -> CustomerMerge:
    merge = await _merge(db, merge_id)
    if merge.status == "running":
        merge.status = "done"
    return merge


async def undo(
    db: AsyncSession, rules: Survivorship, start: MergeStart
) -> tuple[CustomerMerge, list[Told]]:
    """The merge undone: each duplicate's facts and records back where they were."""
    merge = await _merge(db, start.merge_id)
    if merge.status == "undone":
        return merge, []
    if merge.status != "done":
        raise MergeRefused(f"merge {merge.id} is {merge.status}")
    now = datetime.now(UTC)
    survivor = await _customer(db, merge.survivor_id)
    told: list[Told] = []
    for duplicate_id in merge.duplicate_ids:
        moved = Moved.model_validate(merge.moved.get(duplicate_id, {}))
        await db.execute(
            update(CustomerFact)
            .where(CustomerFact.id.in_(moved.facts), CustomerFact.origin_id == duplicate_id)
            .values(customer_id=duplicate_id)
        )
        for kind, (table, key) in MOVABLE.items():
            ids = getattr(moved, kind)
            back = list(
                await db.scalars(
                    select(key).where(key.in_(ids), table.customer_id == merge.survivor_id)
                )
            )
            await db.execute(update(table).where(key.in_(back)).values(customer_id=duplicate_id))
            told += await _running(db, kind, back, duplicate_id)
    await db.flush()
    by = start.actor.username
    await profile.recompute(db, rules, survivor, "merge", by, now, "unmerge")  # phones back
    await db.flush()
    for duplicate_id in merge.duplicate_ids:
        duplicate = await _customer(db, duplicate_id)
        duplicate.merged_into = None
        await profile.recompute(db, rules, duplicate, "merge", by, now, "unmerge")
        await db.flush()
    merge.status, merge.undone_by, merge.undone_at = "undone", by, now
    return merge, told


async def _running(db: AsyncSession, kind: str, ids: Iterable[Any], customer_id: str) -> list[Told]:
    if kind == "requests":
        rows = await db.scalars(
            select(Request.workflow_id).where(
                Request.id.in_(list(ids)), Request.state.not_in([s.value for s in FINAL_STATES])
            )
        )
        return [Told(workflow_id=w, customer_id=customer_id, kind="request") for w in rows]
    if kind == "deals":
        rows = await db.scalars(
            select(Deal.workflow_id).where(Deal.id.in_(list(ids)), Deal.status == "open")
        )
        return [Told(workflow_id=w, customer_id=customer_id, kind="deal") for w in rows]
    return []


async def _record(db: AsyncSession, merge_id: str, duplicate_id: str, moved: Moved) -> None:
    """What moved of this duplicate, added to what the merge moved of it so far."""
    merge = await _merge(db, merge_id)
    so_far = Moved.model_validate(merge.moved.get(duplicate_id, {}))
    merge.moved = {**merge.moved, duplicate_id: so_far.add(moved).model_dump()}


async def _release_keys(db: AsyncSession, duplicate: Customer) -> None:
    """What identifies a customer uniquely — contacts, INN+KPP, OGRN — leaves the merged
    duplicate's row (its facts keep them): the survivor may show them now. An unmerge
    recomputes them back from the facts."""
    await db.execute(delete(CustomerContact).where(CustomerContact.customer_id == duplicate.id))
    await db.execute(delete(CustomerMatchKey).where(CustomerMatchKey.customer_id == duplicate.id))
    duplicate.inn_kpp_key = duplicate.ogrn = None
    await db.flush()


async def _customer(db: AsyncSession, customer_id: str) -> Customer:
    found = await db.get(Customer, customer_id)
    if found is None:
        raise MergeRefused(f"no customer {customer_id}")
    return found


async def _merge(db: AsyncSession, merge_id: str) -> CustomerMerge:
    found = await db.get(CustomerMerge, merge_id)
    if found is None:
        raise MergeRefused(f"no merge {merge_id}")
    return found
