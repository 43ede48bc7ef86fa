"""TicketPollerWorkflow: Request Tracker has no webhooks, so one workflow per connector polls.

Its cursor (tickets updated since, last transaction id) lives in the workflow, so a worker
restart resumes where it stopped. Each change found is recorded by the activity and then
signalled to its request; the signals follow from the activity's recorded result, so a
crash between the two cannot lose one. `poll_now` (a signed event, a test) skips the wait.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.tickets import TicketActivities
    from caseflow.tickets.connectors import PollInput, Signalled

ROUNDS_PER_RUN = 200
POLL_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1))


class PollerStart(BaseModel):
    cursor: PollInput
    every: timedelta = timedelta(seconds=30)
    rounds: int = ROUNDS_PER_RUN  # then it continues as new, carrying the cursor


@workflow.defn
class TicketPollerWorkflow:
    def __init__(self) -> None:
        self.nudged = False
        self.rounds = 0

    @workflow.run
    async def run(self, start: PollerStart) -> None:
        cursor = start.cursor
        for _ in range(start.rounds):
            polled = await workflow.execute_activity_method(
                TicketActivities.poll_tickets,
                cursor,
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=POLL_RETRY,
            )
            sent = []
            for delivery in polled.deliveries:
                handle = workflow.get_external_workflow_handle(delivery.workflow_id)
                try:
                    await handle.signal("ticket_event", delivery.change)
                    sent.append(delivery.change.event_id)
                except Exception as exc:  # the request finished meanwhile: nothing to tell
                    workflow.logger.info("change not delivered: %s", exc)
            if sent:
                await workflow.execute_local_activity_method(
                    TicketActivities.mark_signalled,
                    Signalled(connector=cursor.connector, event_ids=sent),
                    start_to_close_timeout=timedelta(seconds=15),
                )
            cursor = PollInput(connector=cursor.connector, since=polled.since, txn=polled.txn)
            self.rounds += 1
            try:
                await workflow.wait_condition(lambda: self.nudged, timeout=start.every)
            except TimeoutError:
                pass
            self.nudged = False
        workflow.continue_as_new(PollerStart(cursor=cursor, every=start.every, rounds=start.rounds))

    @workflow.signal
    def poll_now(self) -> None:
        self.nudged = True

    @workflow.query
    def polled_rounds(self) -> int:
        return self.rounds
