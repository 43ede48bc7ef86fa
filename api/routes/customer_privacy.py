"""A customer's consents, and their personal data on request: everything held about them
(export) and its erasure (anonymise) — both admin-only and audited like every call."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from api.bounds import Moment
from api.deps import CurrentUser, DbSession, State
from api.problems import Problem, invalid
from api.routes.customer_profile import source_of
from caseflow import access
from caseflow.customers import consent, privacy
from caseflow.customers.consent import Channel, InForce, Purpose
from caseflow.models import CustomerConsent
from caseflow.requests.lifecycle import Role

router = APIRouter(prefix="/customers", tags=["customers"])


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Channel
    purpose: Purpose
    granted: StrictBool
    captured_at: Moment | None = Field(default=None, description="when given; now if absent")
    valid_until: Moment | None = None

    @model_validator(mode="after")
    def _times(self) -> ConsentIn:
        if self.valid_until and self.captured_at and self.valid_until <= self.captured_at:
            raise ValueError("valid_until: must be after captured_at")
        return self


ConsentOut = InForce  # a statement as it stands now (an expired grant no longer grants)


class ConsentsOut(BaseModel):
    in_force: list[ConsentOut] = Field(description="per channel and purpose, the newest")
    statements: list[ConsentOut] = Field(description="every statement, oldest first")


def require_admin(user: CurrentUser) -> None:
    if user.role != Role.ADMIN:
        raise Problem(
            403, "forbidden", "a customer's personal data is exported or erased by an admin"
        )


async def consents_out(db: DbSession, customer_id: str) -> ConsentsOut:
    now = datetime.now(UTC)
    rows = await consent.statements(db, customer_id)
    return ConsentsOut(
        in_force=consent.in_force(rows, now),
        statements=[consent.shown(r, now) for r in rows],
    )


@router.get("/{customer_id}/consents", response_model=ConsentsOut, operation_id="customer_consents")
async def customer_consents(customer_id: str, db: DbSession, user: CurrentUser) -> ConsentsOut:
    customer = await access.customer(db, user, customer_id)
    return await consents_out(db, customer.id)


@router.post(
    "/{customer_id}/consents",
    status_code=201,
    response_model=ConsentsOut,
    operation_id="record_consent",
)
async def record_consent(
    customer_id: str, body: ConsentIn, db: DbSession, user: CurrentUser, app: State
) -> ConsentsOut:
    """A consent given or withdrawn, as the caller's source (like a profile's facts)."""
    customer = await access.live_customer(db, user, customer_id)
    now = datetime.now(UTC)
    captured = body.captured_at or now
    if captured > now:
        raise invalid("captured_at", "a consent is recorded once given, not ahead")
    db.add(
        CustomerConsent(
            customer_id=customer.id, channel=body.channel, purpose=body.purpose,
            granted=body.granted, source=source_of(user, None, app.survivorship),
            captured_at=captured, valid_until=body.valid_until, by=user.username,
        )
    )  # fmt: skip
    await db.commit()
    return await consents_out(db, customer.id)


@router.get("/{customer_id}/export", operation_id="export_customer")
async def export_customer(customer_id: str, db: DbSession, user: CurrentUser) -> dict[str, Any]:
    """Everything held about the customer: profile, sources, history, consents, requests,
    deals, interactions, e-mails and the files' list."""
    require_admin(user)
    customer = await access.customer(db, user, customer_id)
    return await privacy.export(db, customer)


class AnonymisedOut(BaseModel):
    customer_id: str
    anonymised_at: datetime
    erased: dict[str, int] = Field(description="records touched, by kind")


@router.post(
    "/{customer_id}/anonymise",
    response_model=AnonymisedOut,
    operation_id="anonymise_customer",
    responses={409: {"description": "still_open: a request or deal of theirs is open"}},
)
async def anonymise_customer(customer_id: str, db: DbSession, user: CurrentUser) -> AnonymisedOut:
    """Erase the customer's personal data, irreversibly; their cases' statistics and the
    audit trail stay. Refused while one of their requests or deals is open."""
    require_admin(user)
    customer = await access.customer(db, user, customer_id)
    if customer.anonymised_at is not None:
        raise Problem(409, "already_anonymised", f"anonymised on {customer.anonymised_at:%Y-%m-%d}")
    now = datetime.now(UTC)
    try:
        erased = await privacy.anonymise(db, customer, now)
    except privacy.StillOpen as exc:
        raise Problem(
            409, "still_open", f"{exc}: close them first",
            open_requests=exc.requests, open_deals=exc.deals,
        ) from exc  # fmt: skip
    await db.commit()
    return AnonymisedOut(customer_id=customer.id, anonymised_at=now, erased=erased)
