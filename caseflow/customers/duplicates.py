"""Likely duplicates as stored: each profile's blocking keys, kept in step with its name and
contacts, and the candidates that share one, scored by `caseflow.customers.matching`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.customers import contacts
from caseflow.customers.matching import Candidate, Matching, Profile, keys, likely
from caseflow.models import Customer, CustomerMatchKey


async def profiles(db: AsyncSession, ids: list[str]) -> dict[str, Profile]:
    names = dict(
        (await db.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids)))).all()
    )
    found = await contacts.of(db, list(names))
    return {i: Profile(i, names[i], found[i]["phone"], found[i]["email"]) for i in names}


async def refresh(db: AsyncSession, profile: Profile) -> None:
    """The profile's blocking keys as its name and contacts are now."""
    await db.execute(delete(CustomerMatchKey).where(CustomerMatchKey.customer_id == profile.id))
    db.add_all(CustomerMatchKey(customer_id=profile.id, key=k) for k in sorted(keys(profile)))


async def candidates(
    db: AsyncSession, rules: Matching, profile: Profile, visible: Any
) -> list[tuple[Candidate, Profile]]:
    """Profiles the caller may see (`visible`, the access policy's predicate on customers)
    that are likely this one, the likeliest first."""
    sharing = (
        select(CustomerMatchKey.customer_id)
        .join(Customer, Customer.id == CustomerMatchKey.customer_id)
        .where(
            CustomerMatchKey.key.in_(sorted(keys(profile))),
            CustomerMatchKey.customer_id != profile.id,
            Customer.merged_into.is_(None),
            visible,
        )
        .distinct()
        .limit(rules.candidates)
    )
    ids = list(await db.scalars(sharing))
    others = await profiles(db, ids)
    return [(c, others[c.id]) for c in likely(rules, profile, list(others.values()))]
