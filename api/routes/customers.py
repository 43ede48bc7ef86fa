"""Customers: one profile per person or company; duplicates are refused."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api import examples, idempotency
from api.deps import CurrentUser, DbSession, State
from api.owners import check_owners
from api.pagination import Cursor, Limit, Page, keyset
from api.problems import Problem, invalid
from api.routes.customer_duplicates import DuplicateOut, likely_duplicates
from caseflow import access
from caseflow.access import OWNERSHIP_FIELDS, Kind, Viewer
from caseflow.customers import contacts, duplicates, identity, keys
from caseflow.customers.fields import CustomerFields, inconsistency
from caseflow.customers.identity import new_id, search_key
from caseflow.customers.matching import Profile
from caseflow.customers.profile import inn_kpp_key, own_source
from caseflow.models import Customer, CustomerContact, utcnow

router = APIRouter(prefix="/customers", tags=["customers"])


class CustomerIn(CustomerFields):
    """A new customer's fields (`caseflow.customers.fields`), as the API documents them."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [examples.CUSTOMER]})


class CustomerOut(BaseModel):
    id: str
    kind: str
    name: str
    inn: str | None
    kpp: str | None
    ogrn: str | None
    phones: list[str]
    emails: list[str]
    region: str
    segment: str
    tier: str
    personal_manager: str | None
    contract_unit: str | None
    status: str
    planned_volume: int | None
    account_manager: str | None
    locale: str
    gender: str | None
    timezone: str | None
    address_form: str
    address_name: str | None
    contact_person: str | None
    created_at: datetime
    merged_into: str | None = Field(
        default=None, description="merged into this customer: new records go there"
    )


def name_matches(text: str) -> ColumnElement[bool]:
    """Customers whose name holds `text`, in any case and script, on every database."""
    return Customer.name_folded.contains(search_key(text), autoescape=True)


def consistency(body: CustomerFields) -> None:
    broken = inconsistency(body)
    if broken is not None:
        raise invalid(*broken)


async def find_duplicates(
    db: AsyncSession, body: CustomerIn, excluding: str | None = None
) -> tuple[str, list[str]] | None:
    """Another profile holding the same INN+KPP, OGRN, phone or e-mail (not `excluding`)."""
    identifying = keys.identifying(body.model_dump())
    held = await keys.owners(db, identifying)
    matches: dict[str, str] = {}
    for key in identifying:
        owner = held.get(key)
        if owner is not None and owner != excluding:
            matches.setdefault(key[0], owner)
    if not matches:
        return None
    first = next(iter(matches.values()))
    return first, list(matches)


contacts_of = contacts.of  # the profiles' phones and e-mails, primary first


def to_out(customer: Customer, contacts: dict[str, list[str]]) -> CustomerOut:
    return CustomerOut(
        id=customer.id,
        kind=customer.kind,
        name=customer.name,
        inn=customer.inn,
        kpp=customer.kpp,
        ogrn=customer.ogrn,
        phones=contacts["phone"],
        emails=contacts["email"],
        region=customer.region,
        segment=customer.segment,
        tier=customer.tier,
        personal_manager=customer.personal_manager,
        contract_unit=customer.contract_unit,
        status=customer.status,
        planned_volume=customer.planned_volume,
        account_manager=customer.account_manager,
        locale=customer.locale,
        gender=customer.gender,
        timezone=customer.timezone,
        address_form=customer.address_form,
        address_name=customer.address_name,
        contact_person=customer.contact_person,
        created_at=customer.created_at,
        merged_into=customer.merged_into,
    )


async def duplicate(db: AsyncSession, viewer: Viewer, found: tuple[str, list[str]]) -> Problem:
    """409 naming the existing customer only to a caller who may see them; to anyone else
    it says that one exists, never which or whose."""
    customer_id, matched = found
    shown = await access.may_see(db, viewer, Kind.CUSTOMER, Customer.id == customer_id)
    named: dict[str, Any] = {"duplicate_of": customer_id} if shown else {}
    return Problem(
        409,
        "duplicate_customer",
        f"a customer with the same {', '.join(matched)} exists",
        matched_on=matched[0],
        matched_all=matched,
        **named,
    )


class CreatedOut(CustomerOut):
    possible_duplicates: list[DuplicateOut] = Field(
        default_factory=list, description="profiles that are likely this one (no key says so)"
    )


@router.post(
    "",
    status_code=201,
    response_model=CreatedOut,
    operation_id="create_customer",
    responses={409: {"description": "duplicate_customer or idempotency_key_reused"}},
)
async def create_customer(
    body: CustomerIn,
    db: DbSession,
    user: CurrentUser,
    app: State,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JSONResponse:
    """Registered, unless a key says the customer exists (409); profiles that are only
    likely the same are answered in `possible_duplicates`."""
    consistency(body)
    await check_owners(db, user, body.model_dump(include=set(OWNERSHIP_FIELDS)))
    scope, digest = f"customers:{user.username}", idempotency.body_hash(body)
    earlier = await idempotency.replay(db, scope=scope, key=idempotency_key, digest=digest)
    if earlier is not None:
        return JSONResponse(earlier.response, status_code=earlier.status_code)
    found = await find_duplicates(db, body)
    if found:
        raise await duplicate(db, user, found)
    customer = Customer(
        id=new_id(),
        kind=body.kind,
        name=body.name,
        inn=body.inn,
        kpp=body.kpp,
        inn_kpp_key=inn_kpp_key(body.inn, body.kpp),
        ogrn=body.ogrn,
        region=body.region,
        segment=body.segment,
        tier=body.tier,
        personal_manager=body.personal_manager,
        contract_unit=body.contract_unit,
        status=body.status,
        planned_volume=body.planned_volume,
        account_manager=body.account_manager,
        locale=body.locale,
        gender=body.gender,
        timezone=body.timezone,
        address_form=body.address_form,
        address_name=body.address_name,
        contact_person=body.contact_person,
        created_by=user.username,
        created_at=utcnow(),
        source=own_source(user),
    )
    db.add(customer)
    for kind, values in (("phone", body.phones), ("email", body.emails)):
        db.add_all(CustomerContact(customer_id=customer.id, kind=kind, value=v) for v in values)
    profile = Profile(customer.id, body.name, body.phones, body.emails)
    await duplicates.refresh(db, profile)
    possible = await likely_duplicates(db, app.matching, profile, user)
    out = to_out(customer, {"phone": body.phones, "email": body.emails})
    payload = CreatedOut(**out.model_dump(), possible_duplicates=possible).model_dump(mode="json")
    idempotency.remember(
        db, scope=scope, key=idempotency_key, digest=digest, status=201, response=payload
    )
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        # Someone registered the same customer (or used the same key) at the same moment.
        earlier = await idempotency.replay(db, scope=scope, key=idempotency_key, digest=digest)
        if earlier is not None:
            return JSONResponse(earlier.response, status_code=earlier.status_code)
        again = await find_duplicates(db, body)
        if again is None:
            raise
        raise await duplicate(db, user, again) from None
    return JSONResponse(payload, status_code=201)


@router.get("", response_model=Page[CustomerOut], operation_id="list_customers")
async def list_customers(
    db: DbSession,
    user: CurrentUser,
    limit: Limit = 50,
    cursor: Cursor = None,
    q: Annotated[str | None, Query(max_length=200, description="part of the name")] = None,
    inn: Annotated[str | None, Query(max_length=32)] = None,
    ogrn: Annotated[str | None, Query(max_length=32)] = None,
    phone: Annotated[str | None, Query(max_length=64)] = None,
    email: Annotated[str | None, Query(max_length=320)] = None,
) -> Page[CustomerOut]:
    query = select(Customer).where(
        access.where(Kind.CUSTOMER, user), Customer.merged_into.is_(None)
    )
    if q:
        query = query.where(name_matches(q))
    if inn:
        query = query.where(Customer.inn == inn.strip())
    if ogrn:
        query = query.where(Customer.ogrn == ogrn.strip())
    for kind, raw, norm in (("phone", phone, identity.phone), ("email", email, identity.email)):
        if raw:
            try:
                value = norm(raw)
            except identity.InvalidIdentifier as exc:
                raise invalid(kind, str(exc)) from exc
            query = query.where(
                Customer.id.in_(
                    select(CustomerContact.customer_id).where(
                        CustomerContact.kind == kind, CustomerContact.value == value
                    )
                )
            )
    rows, next_cursor = await keyset(db, query, [Customer.id], limit=limit, cursor=cursor)
    contacts = await contacts_of(db, [c.id for c in rows])
    return Page(
        items=[to_out(c, contacts[c.id]) for c in rows],
        next_cursor=next_cursor,
    )
