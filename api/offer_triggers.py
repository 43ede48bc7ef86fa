"""Offer triggers fired by intake: each trigger of the request's topic starts its workflow
for the customer and the current period (an id that exists already: fired this period)."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from caseflow.customers.offer_triggers import workflow_id
from caseflow.customers.segments import Catalogue
from caseflow.customers.trigger_terms import TriggerStart
from workflows.offer_trigger import OfferTriggerWorkflow

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


async def fire(
    temporal: Client, task_queue: str, catalogue: Catalogue, customer_id: str, topic: str
) -> int:
    """How many triggers started now (0 when none matches or each fired this period)."""
    started = 0
    now = datetime.now(UTC)
    for trigger in catalogue.triggers:
        if trigger.topic != topic:
            continue
        period = int((now - EPOCH) / trigger.period)
        start = TriggerStart(
            customer_id=customer_id, trigger=trigger.code, offer=trigger.offer, period=period
        )
        try:
            await temporal.start_workflow(
                OfferTriggerWorkflow.run, start, id=workflow_id(start), task_queue=task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )  # fmt: skip
            started += 1
        except WorkflowAlreadyStartedError:
            continue
    return started
