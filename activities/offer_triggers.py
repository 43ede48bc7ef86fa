"""Offer trigger activity: decide whether the offer goes to the customer's manager now."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from caseflow.customers import offer_triggers
from caseflow.customers.segments import Catalogue
from caseflow.customers.trigger_terms import TriggerOutcome, TriggerStart


class OfferTriggerActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], catalogue: Catalogue) -> None:
        self.sessions, self.catalogue = sessions, catalogue

    @activity.defn
    async def decide_offer(self, start: TriggerStart) -> TriggerOutcome:
        async with self.sessions() as session:
            return await offer_triggers.decide(session, self.catalogue, start)
