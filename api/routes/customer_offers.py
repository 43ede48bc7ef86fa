"""Products a customer holds, the segments they fall in, and the next best offers with
their reasons and suppressions — over the catalogue in `routing_rules/profile/`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator
from sqlalchemy import func, select

from api.bounds import Day, Number
from api.deps import CurrentUser, DbSession, State
from api.pagination import Cursor, Limit, Page, keyset
from api.problems import Problem
from api.routes.customer_profile import source_of
from api.routes.customers import CustomerOut, contacts_of, to_out
from caseflow import access
from caseflow.access import Kind
from caseflow.customers import offers
from caseflow.customers.segments import predicate
from caseflow.models import Customer, CustomerProduct

router = APIRouter(tags=["customers"])
Code = Annotated[str, Path(max_length=64, pattern=r"^[a-z0-9][a-z0-9_]*$")]


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    type: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9_]*$")
    name: str = Field(min_length=1, max_length=200)
    opened_on: Day
    closed_on: Day | None = None
    balance: Number | None = None
    volume: Number | None = Field(default=None, ge=0)
    fraud: StrictBool = False

    @model_validator(mode="after")
    def _dates(self) -> ProductIn:
        if self.closed_on is not None and self.closed_on < self.opened_on:
            raise ValueError("closed_on: before opened_on")
        return self


class ProductOut(ProductIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source: str
    as_of: datetime


class OfferOut(BaseModel):
    code: str
    title: str
    product: str
    reason: str


class SuppressedOut(OfferOut):
    suppressed_because: list[str]


class OffersOut(BaseModel):
    offers: list[OfferOut] = Field(description="to make now, in the catalogue's order")
    suppressed: list[SuppressedOut]


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["accepted", "declined", "later"]
    comment: str | None = Field(default=None, max_length=2000)


class OutcomeOut(OutcomeIn):
    offer: str
    at: datetime


class SegmentPage(Page[CustomerOut]):
    total: int = Field(description="customers in the segment that the caller may see")


@router.post(
    "/customers/{customer_id}/products",
    status_code=201,
    response_model=ProductOut,
    operation_id="add_product",
)
async def add_product(
    customer_id: str, body: ProductIn, db: DbSession, user: CurrentUser, app: State
) -> ProductOut:
    """A product the customer holds (or held), as the caller's source, as of now."""
    customer = await access.live_customer(db, user, customer_id)
    row = CustomerProduct(
        customer_id=customer.id, **body.model_dump(),
        source=source_of(user, None, app.survivorship), as_of=datetime.now(UTC),
    )  # fmt: skip
    db.add(row)
    await db.commit()
    return ProductOut.model_validate(row)


@router.get(
    "/customers/{customer_id}/products",
    response_model=list[ProductOut],
    operation_id="customer_products",
)
async def customer_products(customer_id: str, db: DbSession, user: CurrentUser) -> list[ProductOut]:
    customer = await access.customer(db, user, customer_id)
    rows = await db.scalars(
        select(CustomerProduct)
        .where(CustomerProduct.customer_id == customer.id)
        .order_by(CustomerProduct.opened_on, CustomerProduct.id)
    )
    return [ProductOut.model_validate(r) for r in rows]


@router.get(
    "/customers/{customer_id}/offers", response_model=OffersOut, operation_id="customer_offers"
)
async def customer_offers(
    customer_id: str, db: DbSession, user: CurrentUser, app: State
) -> OffersOut:
    """The next best offers with the reason for each; those not to make now, with why."""
    customer = await access.customer(db, user, customer_id)
    found = await offers.judged(db, app.catalogue, customer.id, datetime.now(UTC))

    def shown(j: offers.Judged) -> dict[str, str]:
        o = j.offer
        return {"code": o.code, "title": o.title, "product": o.product, "reason": o.reason}

    return OffersOut(
        offers=[OfferOut(**shown(j)) for j in found if not j.suppressed_because],
        suppressed=[
            SuppressedOut(**shown(j), suppressed_because=j.suppressed_because)
            for j in found
            if j.suppressed_because
        ],
    )


@router.post(
    "/customers/{customer_id}/offers/{code}/outcome",
    status_code=201,
    response_model=OutcomeOut,
    operation_id="offer_outcome",
)
async def offer_outcome(
    customer_id: str, code: Code, body: OutcomeIn, db: DbSession, user: CurrentUser, app: State
) -> OutcomeOut:
    """The customer's answer to an offer: kept (a decline suppresses it for a while) and
    written into their timeline."""
    customer = await access.live_customer(db, user, customer_id)
    offer = next((o for o in app.catalogue.offers if o.code == code), None)
    if offer is None:
        raise Problem(404, "not_found", f"no offer '{code}' in the catalogue")
    now = datetime.now(UTC)
    await offers.record(db, offer, customer.id, body.outcome, body.comment, user.username, now)
    await db.commit()
    return OutcomeOut(outcome=body.outcome, comment=body.comment, offer=offer.code, at=now)


@router.get(
    "/segments/{code}/customers", response_model=SegmentPage, operation_id="segment_customers"
)
async def segment_customers(
    code: Code,
    db: DbSession,
    user: CurrentUser,
    app: State,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> SegmentPage:
    """The customers in the segment (those the caller may see), paged, with their count."""
    segment = app.catalogue.segment(code)
    if segment is None:
        raise Problem(404, "not_found", f"no segment '{code}'")
    where = (
        access.where(Kind.CUSTOMER, user),
        Customer.merged_into.is_(None),
        predicate(segment.when, datetime.now(UTC)),
    )
    total = await db.scalar(select(func.count()).select_from(Customer).where(*where)) or 0
    rows, next_cursor = await keyset(
        db, select(Customer).where(*where), [Customer.id], limit=limit, cursor=cursor
    )
    contacts = await contacts_of(db, [c.id for c in rows])
    return SegmentPage(
        items=[to_out(c, contacts[c.id]) for c in rows], next_cursor=next_cursor, total=total
    )
