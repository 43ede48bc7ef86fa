"""CustomerImportWorkflow: a staged customer file imported batch by batch. Each batch is one
activity whose transaction also moves the import's checkpoint, so a worker killed mid-import
and started again goes on from the last batch written: no customer twice, no row lost.
A long import continues as new to keep its history short."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.imports import ImportActivities
    from caseflow.customers.import_terms import ImportProgress
    from workflows.retries import SHORT_RETRY

BATCH_TIMEOUT = timedelta(minutes=5)
# A batch beats every second: silent this long, its worker is gone and it runs again.
BATCH_HEARTBEAT = timedelta(seconds=10)
BATCHES_PER_RUN = 500


@workflow.defn
class CustomerImportWorkflow:
    @workflow.run
    async def run(self, import_id: str) -> ImportProgress:
        for _ in range(BATCHES_PER_RUN):
            done: ImportProgress = await workflow.execute_activity_method(
                ImportActivities.import_batch,
                import_id,
                start_to_close_timeout=BATCH_TIMEOUT,
                heartbeat_timeout=BATCH_HEARTBEAT,
                retry_policy=SHORT_RETRY,
            )
            if done.status in ("done", "failed"):
                return done
        workflow.continue_as_new(import_id)
