"""The next best offers for a customer: the catalogue's offers whose segment holds them,
each with the reason the operator reads, and — for the ones not to make now — why not
(an open or recent complaint, a fraud flag, no marketing consent, declined lately, held
already). An answer is recorded in the customer's timeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.customers import consent
from caseflow.customers.segments import COMPLAINT_TOPIC, Catalogue, Offer, predicate
from caseflow.models import Customer, CustomerProduct, Interaction, OfferOutcome, Request
from caseflow.requests.lifecycle import FINAL_STATES


@dataclass(frozen=True)
class Judged:
    offer: Offer
    suppressed_because: list[str] = field(default_factory=list)


async def judged(
    db: AsyncSession, catalogue: Catalogue, customer_id: str, now: datetime
) -> list[Judged]:
    """Every offer the customer's segments make them eligible for, with its suppressions."""
    found: list[Judged] = []
    for offer in catalogue.offers:
        segment = catalogue.segment(offer.segment)
        if segment is None or not await db.scalar(
            select(exists().where(Customer.id == customer_id, predicate(segment.when, now)))
        ):
            continue
        found.append(Judged(offer, await suppressions(db, offer, customer_id, now)))
    return found


async def suppressions(
    db: AsyncSession, offer: Offer, customer_id: str, now: datetime
) -> list[str]:
    rule = offer.suppress
    why: list[str] = []
    products = list(
        await db.scalars(
            select(CustomerProduct).where(
                CustomerProduct.customer_id == customer_id, CustomerProduct.closed_on.is_(None)
            )
        )
    )
    if rule.holds_product and any(p.type == offer.product for p in products):
        why.append(f"already holds {offer.product}")
    if rule.fraud and any(p.fraud for p in products):
        why.append("fraud flag on a product")
    complaints = select(func.count()).where(
        Request.customer_id == customer_id, Request.topic == COMPLAINT_TOPIC
    )
    if await db.scalar(complaints.where(Request.state.not_in([s.value for s in FINAL_STATES]))):
        why.append("an open complaint")
    elif rule.complaint_within and await db.scalar(
        complaints.where(Request.created_at >= now - rule.complaint_within)
    ):
        why.append(f"a complaint within {_days(rule.complaint_within)} days")
    if rule.needs_marketing_consent and not await consent.allows(db, customer_id, "marketing", now):
        why.append("no marketing consent")
    if rule.declined_within and await db.scalar(
        select(func.count()).where(
            OfferOutcome.customer_id == customer_id,
            OfferOutcome.offer == offer.code,
            OfferOutcome.outcome == "declined",
            OfferOutcome.at >= now - rule.declined_within,
        )
    ):
        why.append(f"declined within {_days(rule.declined_within)} days")
    return why


def _days(span: object) -> int:
    return int(span.total_seconds() // 86400) if hasattr(span, "total_seconds") else 0


async def record(
    db: AsyncSession, offer: Offer, customer_id: str, outcome: str, comment: str | None,
    by: str, now: datetime,
) -> OfferOutcome:  # fmt: skip
    """The customer's answer, kept and written into their timeline."""
    row = OfferOutcome(
        customer_id=customer_id, offer=offer.code, outcome=outcome, comment=comment, by=by, at=now
    )
    db.add(row)
    text = f"{offer.title}: {outcome}" + (f" — {comment}" if comment else "")
    db.add(
        Interaction(
            customer_id=customer_id, at=now, channel="phone", category="offer", comment=text,
            author=by,
        )
    )  # fmt: skip
    return row
