"""OfferTriggerWorkflow: a request matched an offer trigger. Its id names the customer, the
trigger and the period, so it runs once per customer per period however many requests
match. If the offer is for the customer now, the manager gets it as a deal in its first
stage (a child workflow that outlives this one), whose first task is theirs."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from temporalio.workflow import ParentClosePolicy

    from activities.offer_triggers import OfferTriggerActivities
    from caseflow.customers.trigger_terms import TriggerOutcome, TriggerStart
    from workflows.deal import DealWorkflow
    from workflows.retries import SHORT_RETRY


@workflow.defn
class OfferTriggerWorkflow:
    @workflow.run
    async def run(self, start: TriggerStart) -> TriggerOutcome:
        outcome: TriggerOutcome = await workflow.execute_activity_method(
            OfferTriggerActivities.decide_offer,
            start,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=SHORT_RETRY,
        )
        if outcome.deal is not None:
            await workflow.start_child_workflow(
                DealWorkflow.run,
                outcome.deal,
                id=f"deal-{outcome.deal.deal_id}",
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
        return outcome
