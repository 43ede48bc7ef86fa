"""A customer's profile kept from its sources: each source's statements (`customer_facts`),
the values survivorship picks (`caseflow.customers.survivorship`) written to the profile's
row and contacts, and every change of a value in `customer_changes`.

A profile registered before sources were kept, or never changed since, has no facts: what
its row holds stands as the statement of the source that registered it, at its creation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.access import Viewer
from caseflow.access.records import MERGE_DEPTH
from caseflow.customers import contacts as held_contacts
from caseflow.customers import duplicates
from caseflow.customers.survivorship import (
    FIELDS,
    LISTS,
    Fact,
    Outcome,
    Survivorship,
    empty,
    profile,
)
from caseflow.models import Customer, CustomerChange, CustomerContact, CustomerFact
from caseflow.requests.lifecycle import Role

RECORD = "record"  # the source of a profile that says nothing of where it came from
CONTACT_KINDS = {"phones": "phone", "emails": "email"}


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any


async def contacts(db: AsyncSession, customer_id: str) -> dict[str, list[str]]:
    """The profile's phones and e-mails as its fields name them."""
    found = (await held_contacts.of(db, [customer_id]))[customer_id]
    return {"phones": found["phone"], "emails": found["email"]}


async def values(db: AsyncSession, customer: Customer) -> dict[str, Any]:
    """The profile's values as its row and contacts hold them now."""
    held = {f: getattr(customer, f) for f in FIELDS if f not in LISTS}
    return held | await contacts(db, customer.id)


async def facts(db: AsyncSession, customer: Customer) -> dict[str, list[Fact]]:
    """What the sources said, field by field; with none kept, the row as its source's."""
    rows = list(
        await db.scalars(
            select(CustomerFact)
            .where(CustomerFact.customer_id == customer.id)
            .order_by(CustomerFact.id)
        )
    )
    if not rows:
        return {f: [v] for f, v in (await first_facts(db, customer)).items()}
    found: dict[str, list[Fact]] = {}
    for row in rows:
        found.setdefault(row.field, []).append(Fact(row.source, row.value, row.at))
    return found


async def first_facts(db: AsyncSession, customer: Customer) -> dict[str, Fact]:
    source = customer.source or RECORD
    held = await values(db, customer)
    return {f: Fact(source, v, customer.created_at) for f, v in held.items() if not empty(v)}


async def explain(db: AsyncSession, rules: Survivorship, customer: Customer) -> dict[str, Outcome]:
    return profile(rules, await facts(db, customer))


async def materialise(db: AsyncSession, customer: Customer) -> None:
    """A profile without facts gets its row's values as its source's facts (before another
    source's statement, or a merge, moves what it shows)."""
    if not await db.scalar(select(CustomerFact.id).where(CustomerFact.customer_id == customer.id)):
        for field, fact in (await first_facts(db, customer)).items():
            db.add(_row(customer.id, field, fact, by=customer.created_by or RECORD))
        await db.flush()


async def state(
    db: AsyncSession,
    rules: Survivorship,
    customer: Customer,
    source: str,
    by: str,
    stated: dict[str, Any],
    at: datetime,
    reason: str = "stated",
) -> list[Change]:
    """`source` states `stated` (field → value; None takes its statement back): kept as that
    source's facts, the profile recomputed, its row and contacts written, each change of a
    value recorded. The caller commits (a phone or e-mail another profile holds fails then)."""
    await materialise(db, customer)
    for field, value in stated.items():
        await db.execute(
            delete(CustomerFact).where(
                CustomerFact.origin_id == customer.id,
                CustomerFact.source == source,
                CustomerFact.field == field,
            )
        )
        db.add(_row(customer.id, field, Fact(source, value, at), by=by))
    await db.flush()
    return await recompute(db, rules, customer, source, by, at, reason)


async def note(
    db: AsyncSession, customer_id: str, source: str, field: str, value: Any, at: datetime
) -> None:
    """A fact the system learns as it happens (a won deal makes a prospect a client), kept
    beside the profile's other facts so a later recomputation does not undo it; a profile
    without facts needs none (its row is its record)."""
    if await db.scalar(select(CustomerFact.id).where(CustomerFact.customer_id == customer_id)):
        await db.execute(
            delete(CustomerFact).where(
                CustomerFact.origin_id == customer_id,
                CustomerFact.source == source,
                CustomerFact.field == field,
            )
        )
        db.add(_row(customer_id, field, Fact(source, value, at), by=source))


async def recompute(
    db: AsyncSession,
    rules: Survivorship,
    customer: Customer,
    source: str,
    by: str,
    at: datetime,
    reason: str,
) -> list[Change]:
    """The profile's values by the rules from its facts, written where they differ."""
    before = await values(db, customer)
    after = {f: o.value for f, o in profile(rules, await facts(db, customer)).items()}
    changes = [Change(f, before[f], after[f]) for f in FIELDS if _differs(before[f], after[f])]
    for change in changes:
        if change.field in CONTACT_KINDS:
            await _contacts(db, customer.id, CONTACT_KINDS[change.field], change.after)
        else:
            setattr(customer, change.field, change.after)
        db.add(
            CustomerChange(
                customer_id=customer.id, field=change.field, before=change.before,
                after=change.after, source=source, by=by, at=at, reason=reason,
            )
        )  # fmt: skip
    changed = {c.field for c in changes}
    key = inn_kpp_key(customer.inn, customer.kpp)
    if customer.inn_kpp_key != key:  # also after a merge took it from a duplicate's row
        customer.inn_kpp_key = key
    if {"name", "phones", "emails"} & changed:
        await db.flush()
        await duplicates.refresh(db, (await duplicates.profiles(db, [customer.id]))[customer.id])
    return changes


MERGED_INTO = (
    select(Customer.merged_into).where(Customer.id == bindparam("customer_id")).with_for_update()
)


async def survivor_of(session: AsyncSession, customer_id: str) -> str:
    """The customer a new record is written for: a merged profile's survivor. The profile's
    row is locked (PostgreSQL) until the record is written, so a merge that marks it waits
    for the record and moves it, or has marked it already and the record goes to the
    survivor — a request never stays behind on a merged profile."""
    for _ in range(MERGE_DEPTH):
        merged = await session.scalar(MERGED_INTO, {"customer_id": customer_id})
        if merged is None:
            break
        customer_id = merged
    return customer_id


def own_source(user: Viewer) -> str:
    """The channel a person or system writes as: an integration as api:<its name>, a sales
    manager as deal, the service side (operators, agents, supervisors, admins) as call_centre."""
    if user.role == Role.INTEGRATION:
        return f"api:{user.username}"
    return "deal" if user.role == Role.MANAGER else "call_centre"


def inn_kpp_key(inn: str | None, kpp: str | None) -> str | None:
    """ "inn/kpp" for organisations: the unique key that refuses a second profile of one company."""
    return f"{inn}/{kpp}" if inn and kpp else (inn if inn else None)


def _differs(before: Any, after: Any) -> bool:
    return (None if empty(before) else before) != (None if empty(after) else after)


async def _contacts(
    db: AsyncSession, customer_id: str, kind: str, wanted: list[str] | None
) -> None:
    """The customer's phones or e-mails become `wanted`, in its order (the primary first)."""
    await db.execute(
        delete(CustomerContact).where(
            CustomerContact.customer_id == customer_id, CustomerContact.kind == kind
        )
    )
    await db.flush()
    db.add_all(CustomerContact(customer_id=customer_id, kind=kind, value=v) for v in wanted or [])


def _row(customer_id: str, field: str, fact: Fact, by: str) -> CustomerFact:
    return CustomerFact(
        customer_id=customer_id, origin_id=customer_id, source=fact.source, field=field,
        value=fact.value, at=fact.at, by=by,
    )  # fmt: skip
