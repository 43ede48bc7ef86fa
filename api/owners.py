"""Ownership fields of a customer: set only by who may (the access policy), and only to an
active person of a role that can hold them, or to a unit that exists."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.problems import Problem, invalid
from caseflow import access
from caseflow.access import HOLDERS, OWNERSHIP_FIELDS, Viewer
from caseflow.models import Team, User


async def check_owners(db: AsyncSession, viewer: Viewer, values: Mapping[str, object]) -> None:
    """403 naming the field the caller may not set (before saying whether the named person
    exists); 422 naming a person or unit that cannot own the customer."""
    for field in OWNERSHIP_FIELDS:
        value = values.get(field)
        if value is None:
            continue
        if not isinstance(value, str) or not access.may_set(viewer, field, value):
            reason = "your role may not set who owns a customer"
            raise Problem(
                403, "forbidden", f"{field}: {reason}", errors=[{"field": field, "reason": reason}]
            )
        if field == "contract_unit":
            if await db.get(Team, value) is None:
                raise invalid(field, f"no unit '{value}'")
            continue
        person = await db.scalar(select(User).where(User.username == value))
        if person is None or not person.active or person.role not in HOLDERS[field]:
            roles = " or ".join(sorted(HOLDERS[field]))
            raise invalid(field, f"no active {roles} '{value}'")
