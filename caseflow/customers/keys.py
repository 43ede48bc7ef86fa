"""The deterministic keys of a customer — INN+KPP, OGRN, each phone, each e-mail — and who
holds them: one profile per key, for a new customer, a changed profile and an import alike."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ARRAY, String, any_, bindparam, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.customers.profile import inn_kpp_key
from caseflow.models import Customer, CustomerContact

Key = tuple[str, str]  # (inn_kpp | ogrn | phone | email, the normalised value)


def identifying(fields: dict[str, Any]) -> list[Key]:
    """The customer's keys, in the order a duplicate is named by: INN+KPP, OGRN, phones,
    e-mails."""
    found: list[Key] = []
    key = inn_kpp_key(fields.get("inn"), fields.get("kpp"))
    if key:
        found.append(("inn_kpp", key))
    if fields.get("ogrn"):
        found.append(("ogrn", str(fields["ogrn"])))
    found += [("phone", p) for p in fields.get("phones", [])]
    found += [("email", e) for e in fields.get("emails", [])]
    return found


async def owners(db: AsyncSession, wanted: Iterable[Key]) -> dict[Key, str]:
    """Which of the keys the base holds, and whose they are. On PostgreSQL the keys travel
    as arrays (an import batch asks for thousands: as a list of pairs the statement took
    longer to plan and to send than to answer — bench/import.py)."""
    by_kind: dict[str, list[str]] = {}
    for kind, value in set(wanted):
        by_kind.setdefault(kind, []).append(value)
    arrays = (await db.connection()).dialect.name == "postgresql"
    found: dict[Key, str] = {}
    for kind, column in (("inn_kpp", Customer.inn_kpp_key), ("ogrn", Customer.ogrn)):
        if by_kind.get(kind):
            values = by_kind[kind]
            among = column == any_(_array(values)) if arrays else column.in_(values)
            for held, cid in await db.execute(select(column, Customer.id).where(among)):
                found[(kind, str(held))] = cid
    contacts = [(k, v) for k in ("phone", "email") for v in by_kind.get(k, [])]
    if not contacts:
        return found
    if arrays:
        asked = (
            func.unnest(_array([k for k, _ in contacts]), _array([v for _, v in contacts]))
            .table_valued("kind", "value")
            .render_derived()
        )
        query = select(
            CustomerContact.kind, CustomerContact.value, CustomerContact.customer_id
        ).join(
            asked,
            (CustomerContact.kind == asked.c.kind) & (CustomerContact.value == asked.c.value),
        )
    else:
        query = select(
            CustomerContact.kind, CustomerContact.value, CustomerContact.customer_id
        ).where(tuple_(CustomerContact.kind, CustomerContact.value).in_(contacts))
    for kind, value, cid in await db.execute(query):
        found[(kind, value)] = cid
    return found


def _array(values: list[str]) -> Any:
    return bindparam(None, values, type_=ARRAY(String))
