"""AbsenceWorkflow: when a planned absence starts, the person's unstarted requests go back.

A durable timer waits for the start, however far ahead; then the requests still assigned
to the person and not started (in teams that want it) get a `requeue` signal each.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.requests import RequestActivities
    from caseflow.payloads import AbsenceStart, Requeue


@workflow.defn
class AbsenceWorkflow:
    @workflow.run
    async def run(self, absence: AbsenceStart) -> int:
        wait = absence.starts_at - workflow.now()
        if wait > timedelta(0):
            await workflow.sleep(wait)
        workflow_ids: list[str] = await workflow.execute_activity_method(
            RequestActivities.unstarted_requests,
            absence,
            start_to_close_timeout=timedelta(seconds=30),
        )
        reason = f"{absence.username} is absent from {absence.starts_at:%Y-%m-%d %H:%M} UTC"
        if absence.reason:
            reason += f" ({absence.reason})"
        for workflow_id in workflow_ids:
            await workflow.get_external_workflow_handle(workflow_id).signal(
                "requeue", Requeue(assignee=absence.username, reason=reason)
            )
        return len(workflow_ids)
