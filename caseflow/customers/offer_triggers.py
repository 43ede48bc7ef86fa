"""An offer trigger's decision: whether the offer is for this customer now (its segment,
nothing suppressing it) and who their manager is; if so, the deal that carries the offer to
the manager as a task — its first stage's tasks are theirs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.customers import offers
from caseflow.customers.segments import Catalogue
from caseflow.customers.trigger_terms import TriggerOutcome, TriggerStart
from caseflow.deals import store as deals
from caseflow.deals.gates import DealStart
from caseflow.models import Customer, User
from caseflow.payloads import Actor
from caseflow.requests.lifecycle import Role

NAMESPACE = uuid.UUID("5b0c1f1e-7a53-4c1b-9b4e-2f3f2a6b9c10")
PIPELINES = {"organization": "b2b", "person": "b2c"}


def workflow_id(start: TriggerStart) -> str:
    return f"offer-trigger-{start.customer_id}-{start.trigger}-{start.period}"


async def decide(db: AsyncSession, catalogue: Catalogue, start: TriggerStart) -> TriggerOutcome:
    offer = catalogue.offer(start.offer)
    customer = await db.get(Customer, start.customer_id)
    if offer is None or customer is None:
        return TriggerOutcome(skipped="the offer or the customer is gone")
    judged = await offers.judged(db, catalogue, customer.id, datetime.now(UTC))
    found = next((j for j in judged if j.offer.code == offer.code), None)
    if found is None:
        return TriggerOutcome(skipped="not in the offer's segment")
    if found.suppressed_because:
        return TriggerOutcome(skipped="; ".join(found.suppressed_because))
    holders = [customer.account_manager, customer.personal_manager]
    manager = await db.scalar(
        select(User).where(
            User.username.in_([h for h in holders if h]),
            User.role == Role.MANAGER,
            User.active.is_(True),
        )
    )
    if manager is None:
        return TriggerOutcome(skipped="the customer has no manager")
    deal = DealStart(
        deal_id=str(uuid.uuid5(NAMESPACE, workflow_id(start))),
        pipeline=PIPELINES.get(customer.kind, "b2b"),
        title=f"Предложение: {offer.title}"[:300],
        owner=Actor(username=manager.username, role=Role.MANAGER, team=manager.team_code),
        customer=await deals.customer_facts(db, customer),
        customer_id=customer.id,
        fields={"offer": offer.code, "reason": offer.reason[:500]},
        body_hash=f"offer-trigger:{start.trigger}:{start.period}",
    )
    return TriggerOutcome(deal=deal)
