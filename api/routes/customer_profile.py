"""A customer's profile from its sources: changed by `PATCH` as the caller's source,
explained field by field (`?explain=true`: the value, the source and time that won, the
values that lost), and its history of changes. Editing a profile is for whoever may see
it (the access policy); who owns a customer is set only by who may (`check_owners`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Optional

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import CurrentUser, DbSession, State
from api.owners import check_owners
from api.pagination import Cursor, Limit, Page, keyset
from api.problems import Problem, from_validation, invalid
from api.routes.customers import (
    CustomerIn,
    CustomerOut,
    consistency,
    contacts_of,
    duplicate,
    find_duplicates,
    to_out,
)
from caseflow import access
from caseflow.access import OWNERSHIP_FIELDS
from caseflow.customers import profile
from caseflow.customers.survivorship import Outcome, Survivorship
from caseflow.models import Customer, CustomerChange, User
from caseflow.requests.lifecycle import Role

router = APIRouter(prefix="/customers", tags=["customers"])
SOURCE = r"^[a-z][a-z_]*(:[a-z0-9][a-z0-9_.@-]*)?$"

# Every field of a new customer but its kind, each optional: what is given is stated.
CustomerPatch: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "CustomerPatch",
    __config__=ConfigDict(extra="forbid"),
    **{
        name: (Optional[info.annotation], None)  # noqa: UP045 (a runtime type, not a hint)
        for name, info in CustomerIn.model_fields.items()
        if name != "kind"
    },
)


class Stated(BaseModel):
    source: str
    value: Any
    at: datetime


class FieldExplained(BaseModel):
    value: Any
    source: str | None = Field(description="the source that won (union: of the primary value)")
    at: datetime | None
    sources: list[Stated] = Field(default_factory=list, description="union: each value's own")
    lost: list[Stated] = Field(default_factory=list)


class ProfileOut(CustomerOut):
    explain: dict[str, FieldExplained] | None = None


class ChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    field: str
    before: Any
    after: Any
    source: str
    by: str
    at: datetime
    reason: str


def source_of(user: User, asked: str | None, rules: Survivorship) -> str:
    """The caller's own channel — an integration as api:<its name>, a manager as deal,
    the service side as call_centre — or, for an integration or an admin, the one asked."""
    own = profile.own_source(user)
    if asked is None or asked == own:
        return own
    if user.role not in (Role.INTEGRATION, Role.ADMIN):
        reason = "only an integration or an admin writes as another source"
        raise Problem(
            403, "forbidden", f"source: {reason}", errors=[{"field": "source", "reason": reason}]
        )
    if not rules.declares(asked):
        raise invalid("source", f"'{asked}' is not among the sources {rules.sources}")
    return asked


def explained(outcomes: dict[str, Outcome]) -> dict[str, FieldExplained]:
    def stated(facts: list[Any]) -> list[Stated]:
        return [Stated(source=f.source, value=f.value, at=f.at) for f in facts]

    return {
        field: FieldExplained(
            value=o.value,
            source=o.won[0].source if o.won else None,
            at=o.won[0].at if o.won else None,
            sources=stated(o.won) if isinstance(o.value, list) else [],
            lost=stated(o.lost),
        )
        for field, o in outcomes.items()
    }


async def profile_out(
    db: AsyncSession, customer: Customer, rules: Survivorship, explain: bool
) -> ProfileOut:
    out = to_out(customer, (await contacts_of(db, [customer.id]))[customer.id]).model_dump()
    if not explain:
        return ProfileOut(**out)  # unset: not in the answer
    return ProfileOut(**out, explain=explained(await profile.explain(db, rules, customer)))


@router.get(
    "/{customer_id}",
    response_model=ProfileOut,
    response_model_exclude_unset=True,
    operation_id="get_customer",
)
async def get_customer(
    customer_id: str,
    db: DbSession,
    user: CurrentUser,
    app: State,
    explain: Annotated[bool, Query(description="each field's source, time and losers")] = False,
) -> ProfileOut:
    customer = await access.customer(db, user, customer_id)
    return await profile_out(db, customer, app.survivorship, explain)


@router.patch(
    "/{customer_id}",
    response_model=ProfileOut,
    operation_id="patch_customer",
    responses={409: {"description": "duplicate_customer: a phone, e-mail or key is another's"}},
)
async def patch_customer(
    customer_id: str,
    body: CustomerPatch,
    db: DbSession,
    user: CurrentUser,
    app: State,
    source: Annotated[
        str | None,
        Query(max_length=64, pattern=SOURCE, description="integration/admin: write as this"),
    ] = None,
) -> ProfileOut:
    """State fields as the caller's source (null takes that source's statement back); the
    profile is recomputed by the survivorship rules and answered with its explanation."""
    customer = await access.customer(db, user, customer_id)
    rules = app.survivorship
    writer = source_of(user, source, rules)
    stated = body.model_dump(exclude_unset=True)
    if not stated:
        raise invalid("body", "name at least one field to change")
    checked = await checked_profile(db, customer, stated)
    normalised = {f: getattr(checked, f) for f in stated}
    await check_owners(db, user, {f: normalised[f] for f in OWNERSHIP_FIELDS if f in normalised})
    held = await find_duplicates(db, checked, excluding=customer.id)
    if held:
        raise await duplicate(db, user, held)
    await profile.state(db, rules, customer, writer, user.username, normalised, datetime.now(UTC))
    try:
        await db.commit()
    except IntegrityError:  # another profile took the phone, e-mail or key this moment
        await db.rollback()
        again = await find_duplicates(db, checked, excluding=customer_id)
        if again is None:
            raise
        raise await duplicate(db, user, again) from None
    return await profile_out(db, customer, rules, explain=True)


async def checked_profile(
    db: AsyncSession, customer: Customer, stated: dict[str, Any]
) -> CustomerIn:
    """The profile with the statement applied, checked as a new customer would be (the
    fields' formats, INN with KPP…): a refusal names the field."""
    given = {f: ([] if f in profile.CONTACT_KINDS and v is None else v) for f, v in stated.items()}
    merged = await profile.values(db, customer) | {"kind": customer.kind} | given
    try:
        checked = CustomerIn.model_validate(merged)
    except ValidationError as exc:
        raise from_validation(exc.errors()) from exc
    consistency(checked)
    return checked


@router.get(
    "/{customer_id}/history", response_model=Page[ChangeOut], operation_id="customer_history"
)
async def customer_history(
    customer_id: str, db: DbSession, user: CurrentUser, limit: Limit = 100, cursor: Cursor = None
) -> Page[ChangeOut]:
    """Every change of the profile's values, oldest first: field, from, to, source, who."""
    customer = await access.customer(db, user, customer_id)
    query = select(CustomerChange).where(CustomerChange.customer_id == customer.id)
    rows, next_cursor = await keyset(db, query, [CustomerChange.id], limit=limit, cursor=cursor)
    return Page(items=[ChangeOut.model_validate(r) for r in rows], next_cursor=next_cursor)
