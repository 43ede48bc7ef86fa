"""A customer's phones and e-mails as stored (normalised, unique across customers), in the
order they were given: the primary first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.models import CustomerContact


async def of(db: AsyncSession, ids: list[str]) -> dict[str, dict[str, list[str]]]:
    """{customer id: {"phone": [...], "email": [...]}} for each of `ids`."""
    found: dict[str, dict[str, list[str]]] = {i: {"phone": [], "email": []} for i in ids}
    if not ids:
        return found
    for customer_id, kind, value in await db.execute(
        select(CustomerContact.customer_id, CustomerContact.kind, CustomerContact.value)
        .where(CustomerContact.customer_id.in_(ids))
        .order_by(CustomerContact.id)
    ):
        found[customer_id][kind].append(value)
    return found
