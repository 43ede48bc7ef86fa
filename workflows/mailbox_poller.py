"""MailboxPollerWorkflow: one per mailbox of `mailboxes.yaml`, reading it for as long as it
is configured. Each round is one activity: what waits in the folder is kept and moved, and
where the server offers IDLE the activity waits in it until mail arrives; otherwise the
workflow waits the mailbox's interval. A worker that dies mid-round leaves the round to be
tried again: kept messages are keyed, so a message fetched twice is kept once.

The worker that starts signals each poller the mailbox as configured now (`configure`), so
a changed account or folder takes effect from the next round."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.mailboxes import MailboxActivities
    from caseflow.mail.mailbox_terms import MailboxRound, MailboxStart, MailboxTerms

SERVER_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1))  # a server down: keep trying
HEARTBEAT = timedelta(seconds=30)


@workflow.defn
class MailboxPollerWorkflow:
    def __init__(self) -> None:
        self.box: MailboxTerms | None = None
        self.kept = 0

    @workflow.run
    async def run(self, start: MailboxStart) -> None:
        for _ in range(start.rounds):
            box = self.box or start.box
            found: MailboxRound = await workflow.execute_activity_method(
                MailboxActivities.read_mailbox,
                box,
                start_to_close_timeout=box.every + timedelta(minutes=2),
                heartbeat_timeout=HEARTBEAT,
                retry_policy=SERVER_RETRY,
            )
            self.kept += found.kept
            if not found.kept and not found.waited:
                await workflow.sleep(box.every)
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(MailboxStart(box=self.box or start.box, rounds=start.rounds))

    @workflow.signal
    def configure(self, box: MailboxTerms) -> None:
        self.box = box

    @workflow.query
    def kept_messages(self) -> int:
        return self.kept
