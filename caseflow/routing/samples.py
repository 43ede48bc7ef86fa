"""Recent intakes as routing inputs, for previewing a rule change (what-if, dry-run)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.models import Customer, Request
from caseflow.payloads import Actor, CustomerFacts, RequestStart
from caseflow.requests.lifecycle import Role


async def recent_intakes(
    session: AsyncSession, *, limit: int, request_ids: list[str] | None = None
) -> list[tuple[str, RequestStart]]:
    """(number, the intake as routing saw it) for the newest requests, or the ones named."""
    query = select(Request, Customer).join(Customer, Customer.id == Request.customer_id)
    if request_ids:
        query = query.where(Request.id.in_(request_ids))
    rows = await session.execute(query.order_by(Request.seq_no.desc()).limit(limit))
    return [(request.number, _start(request, customer)) for request, customer in rows]


def facts_of(customer: Customer) -> CustomerFacts:
    """What routing knows of a customer, as captured into a request at intake."""
    return CustomerFacts.model_validate(customer, from_attributes=True)


def _start(request: Request, customer: Customer) -> RequestStart:
    facts = facts_of(customer)
    return RequestStart(
        request_id=request.id,
        body_hash=request.intake_hash,
        customer=facts,
        channel=request.channel,
        topic=request.topic,
        subtopic=request.subtopic,
        priority=request.priority,
        subject=request.subject,
        description="",
        created_by=Actor(username=request.created_by, role=Role.OPERATOR),
    )
