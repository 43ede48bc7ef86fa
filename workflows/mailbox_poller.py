"""MailboxPollerWorkflow: one per mailbox of `mailboxes.yaml`, reading it for as long as it
is configured. Each round is one activity: what waits in the folder is kept and moved, and
where the server offers IDLE the activity waits in it until mail arrives; otherwise the
workflow waits the mailbox's interval. A worker that dies mid-round leaves the round to be
tried again: kept messages are keyed, so a message fetched twice is kept once.

The worker that starts signals each poller the mailbox as configured now (`configure`). A
changed mailbox cuts the running round short (it may be retrying a server that is not
there, for as long as that lasts) and the next round reads the mailbox as it is now."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.mailboxes import MailboxActivities
    from caseflow.mail.mailbox_terms import MailboxRound, MailboxStart, MailboxTerms

SERVER_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1))  # a server down: keep trying
HEARTBEAT = timedelta(seconds=30)
# Patch id: a changed mailbox cuts the running round short (histories from before it wait
# for the round, however long its retries last).
ROUND_CUT_PATCH = "mailbox-round-cut-by-configure"


@workflow.defn
class MailboxPollerWorkflow:
    def __init__(self) -> None:
        self.box: MailboxTerms | None = None
        self.kept = 0
        self.reading: MailboxTerms | None = None  # the mailbox the running round reads
        self.round: workflow.ActivityHandle[MailboxRound] | None = None

    @workflow.run
    async def run(self, start: MailboxStart) -> None:
        for _ in range(start.rounds):
            box = self.box or start.box
            if workflow.patched(ROUND_CUT_PATCH):
                found = await self._round(box)
            else:
                found = await workflow.execute_activity_method(
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

    async def _round(self, box: MailboxTerms) -> MailboxRound:
        """One round; one cut short by a changed mailbox counts as a round that waited (the
        next one starts at once, on the mailbox as it is now)."""
        self.reading = box
        self.round = workflow.start_activity_method(
            MailboxActivities.read_mailbox,
            box,
            start_to_close_timeout=box.every + timedelta(minutes=2),
            heartbeat_timeout=HEARTBEAT,
            retry_policy=SERVER_RETRY,
        )
        try:
            return await self.round
        except ActivityError:
            if self.box == self.reading:
                raise  # not cut short by a change: the round failed for good
            return MailboxRound(waited=True)
        finally:
            self.round = self.reading = None

    @workflow.signal
    def configure(self, box: MailboxTerms) -> None:
        self.box = box
        if self.round is not None and box != self.reading:
            self.round.cancel()

    @workflow.query
    def kept_messages(self) -> int:
        return self.kept
