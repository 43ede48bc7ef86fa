"""The rows of an import batch that name customers the base holds, stated in bulk: each
customer's facts from the import's source replaced in two statements for the whole batch,
and the profile recomputed only where the import says something the profile does not show
(a duplicate row that repeats the profile changes nothing and costs no recomputation)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.customers import contacts, profile
from caseflow.customers.survivorship import FIELDS, LISTS, Survivorship, empty
from caseflow.models import Customer, CustomerFact
from caseflow.platform import bulk

SCALARS = tuple(f for f in FIELDS if f not in LISTS)


def merged(statements: list[dict[str, Any]]) -> dict[str, Any]:
    """One customer's rows in this batch as one statement: the first row's values stand,
    phones and e-mails of every row join."""
    out: dict[str, Any] = {}
    for stated in statements:
        for field, value in stated.items():
            if field in LISTS:
                held = out.setdefault(field, [])
                held += [v for v in value if v not in held]
            else:
                out.setdefault(field, value)
    return out


async def state(
    db: AsyncSession,
    rules: Survivorship,
    source: str,
    by: str,
    now: datetime,
    stated: dict[str, dict[str, Any]],
    joining: set[str] | None = None,
) -> int:
    """`stated`: customer id → what the import says of them; for the customers in
    `joining` (made by this import from an earlier row) only their phones and e-mails join,
    the first row's other fields stand. Answers how many profiles changed."""
    ids = sorted(stated)
    if not ids:
        return 0
    customers = {c.id: c for c in await db.scalars(select(Customer).where(Customer.id.in_(ids)))}
    held: dict[str, dict[str, Any]] = {
        cid: {f: getattr(c, f) for f in SCALARS} | {"phones": [], "emails": []}
        for cid, c in customers.items()
    }
    for cid, found in (await contacts.of(db, list(held))).items():
        held[cid] |= {"phones": found["phone"], "emails": found["email"]}
    for cid in joining or set():
        if cid in stated and cid in held:
            stated[cid] = {
                kind: held[cid][kind]
                + [v for v in stated[cid].get(kind, []) if v not in held[cid][kind]]
                for kind in sorted(LISTS)
            }
    with_facts = set(
        await db.scalars(
            select(CustomerFact.customer_id).where(CustomerFact.customer_id.in_(ids)).distinct()
        )
    )
    before: dict[tuple[str, str], Any] = {
        (cid, field): value
        for cid, field, value in await db.execute(
            select(CustomerFact.origin_id, CustomerFact.field, CustomerFact.value).where(
                CustomerFact.origin_id.in_(ids), CustomerFact.source == source
            )
        )
    }
    facts: list[dict[str, Any]] = []
    for cid in ids:
        customer = customers.get(cid)
        if customer is None:
            continue
        if cid not in with_facts:  # its row stands as its source's statement: kept first
            first = customer.source or profile.RECORD
            facts += [
                _fact(cid, field, value, first, customer.created_at, customer.created_by or first)
                for field, value in held[cid].items()
                if not empty(value) and not (first == source and field in stated[cid])
            ]
    await db.execute(
        delete(CustomerFact).where(
            CustomerFact.origin_id.in_(ids),
            CustomerFact.source == source,
            CustomerFact.field.in_(sorted({f for s in stated.values() for f in s})),
        )
    )
    facts += [
        _fact(cid, field, value, source, now, by)
        for cid, fields in stated.items()
        if cid in customers
        for field, value in fields.items()
    ]
    await bulk.written(db, CustomerFact, facts)
    changed = 0
    for cid, fields in stated.items():
        if cid in customers and _news(held[cid], fields, before, cid):
            if await profile.recompute(db, rules, customers[cid], source, by, now, "import"):
                changed += 1
    return changed


def _news(held: dict[str, Any], fields: dict[str, Any], before: dict[Any, Any], cid: str) -> bool:
    """Whether the statement could change what the profile shows: a value it does not show,
    or a statement of this source that is taken back or changed."""
    for field, value in fields.items():
        if field in LISTS:
            if set(value) - set(held[field]):
                return True
        elif not empty(value) and value != held[field]:
            return True
        old = before.get((cid, field))
        if old is not None and old != value:
            return True
    return False


def _fact(cid: str, field: str, value: Any, source: str, at: datetime, by: str) -> dict[str, Any]:
    return {
        "customer_id": cid, "origin_id": cid, "source": source, "field": field,
        "value": value, "at": at, "by": by,
    }  # fmt: skip
