"""CustomerMergeWorkflow: duplicate profiles merged into a survivor, or a merge undone.

The duplicates are marked merged first (intake and e-mail go to the survivor from then on),
their facts move and the survivor's profile is recomputed; then their records move in
batches until none is left — a request registered for a duplicate while the merge runs is
moved too. Running request and deal workflows that moved are told by a `customer_merged`
signal, so what they show and send names the survivor. An undo moves back exactly what the
merge moved and tells those workflows the same.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from activities.customers import CustomerActivities
    from caseflow.customers.merge_terms import (
        CustomerMoved,
        MergeOutcome,
        MergeStart,
        MoveStep,
        Told,
    )
    from workflows.retries import SHORT_RETRY

STEP = timedelta(minutes=2)


@workflow.defn
class CustomerMergeWorkflow:
    @workflow.run
    async def run(self, start: MergeStart) -> MergeOutcome:
        told: list[Told] = []
        if start.undo:
            undone = await workflow.execute_activity_method(
                CustomerActivities.undo_merge,
                start,
                start_to_close_timeout=STEP,
                retry_policy=SHORT_RETRY,
            )
            outcome, told = undone.outcome, undone.told
        else:
            await workflow.execute_activity_method(
                CustomerActivities.begin_merge,
                start,
                start_to_close_timeout=STEP,
                retry_policy=SHORT_RETRY,
            )
            while True:
                step: MoveStep = await workflow.execute_activity_method(
                    CustomerActivities.move_merged,
                    start,
                    start_to_close_timeout=STEP,
                    retry_policy=SHORT_RETRY,
                )
                told += step.told
                if step.count == 0:
                    break
            outcome = await workflow.execute_activity_method(
                CustomerActivities.finish_merge,
                start,
                start_to_close_timeout=STEP,
                retry_policy=SHORT_RETRY,
            )
        for one in told:
            try:
                await workflow.get_external_workflow_handle(one.workflow_id).signal(
                    "customer_merged", CustomerMoved(customer_id=one.customer_id)
                )
            except FailureError:  # it finished meanwhile: nothing to tell
                workflow.logger.info("not told (finished): %s", one.workflow_id)
        return outcome.model_copy(update={"told": len(told)})
