"""Likely duplicates of a customer: profiles no key says are one but whose name and
contacts are alike, with a score and the fields that matched — among the profiles the
caller may see (the access policy)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import CurrentUser, DbSession, State
from caseflow import access
from caseflow.access import Kind, Viewer
from caseflow.customers import duplicates
from caseflow.customers.matching import Matching, Profile

router = APIRouter(prefix="/customers", tags=["customers"])


class DuplicateOut(BaseModel):
    customer_id: str
    name: str
    phones: list[str]
    emails: list[str]
    score: int = Field(ge=0, le=100)
    matched: dict[str, int] = Field(description="each field that matched, with its own score")


class DuplicatesOut(BaseModel):
    items: list[DuplicateOut]


async def likely_duplicates(
    db: AsyncSession, rules: Matching, profile: Profile, viewer: Viewer
) -> list[DuplicateOut]:
    found = await duplicates.candidates(db, rules, profile, access.where(Kind.CUSTOMER, viewer))
    return [
        DuplicateOut(
            customer_id=other.id, name=other.name, phones=other.phones, emails=other.emails,
            score=c.score, matched=c.matched,
        )
        for c, other in found
    ]  # fmt: skip


@router.get(
    "/{customer_id}/duplicates", response_model=DuplicatesOut, operation_id="customer_duplicates"
)
async def customer_duplicates(
    customer_id: str, db: DbSession, user: CurrentUser, app: State
) -> DuplicatesOut:
    """Profiles that are likely this customer, the likeliest first."""
    customer = await access.customer(db, user, customer_id)
    profile = (await duplicates.profiles(db, [customer.id]))[customer.id]
    return DuplicatesOut(items=await likely_duplicates(db, app.matching, profile, user))
