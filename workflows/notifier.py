"""NotifierWorkflow: one per recipient; turns notices into e-mails without storms.

Requests post notices by signal-with-start (`notify-<recipient>`). A critical notice is
sent at once, with whatever else is waiting; normal ones wait for the digest window, so a
burst (registered + assigned in the same minute) becomes one e-mail. A notice key seen
before is ignored. The workflow ends after a quiet day and continues-as-new before its
history grows long.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from caseflow.mail_context import Batch, Notice, NotifierStart, Sent

QUIET = timedelta(days=1)
KEEP_SEEN = 500
SENDS_PER_RUN = 200
# 4xx and dropped connections: retried with backoff for about an hour, never forever.
SEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=10,
    non_retryable_error_types=["smtp_refused", "template_error"],
)


def order(notice: Notice) -> tuple[object, ...]:
    """Notices posted at once may arrive in any order; e-mails tell them as they happened."""
    parts = notice.key.split(":")
    step = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    return (notice.at, parts[0], step, notice.key)


@workflow.defn
class NotifierWorkflow:
    @workflow.init
    def __init__(self, start: NotifierStart) -> None:
        self.start = start
        self.seen: list[str] = list(start.seen)
        self.pending: list[Notice] = list(start.pending)
        self.sends = 0

    @workflow.signal
    def notice(self, notice: Notice) -> None:
        if notice.key in self.seen or any(p.key == notice.key for p in self.pending):
            return  # a retried activity posted it again
        self.pending.append(notice)

    @workflow.run
    async def run(self, start: NotifierStart) -> int:
        while True:
            try:
                await workflow.wait_condition(lambda: bool(self.pending), timeout=QUIET)
            except TimeoutError:
                if not self.pending:
                    return self.sends
            if not self._critical():
                # Wait out the window from the first waiting notice, unless a critical one
                # arrives: it goes at once and takes the others with it.
                left = self.pending[0].at + start.window - workflow.now()
                if left > timedelta(0):
                    try:
                        await workflow.wait_condition(self._critical, timeout=left)
                    except TimeoutError:
                        pass
            batch, self.pending = sorted(self.pending, key=order), []
            await self._send(batch)
            if self.sends >= SENDS_PER_RUN or workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    NotifierStart(
                        recipient_key=start.recipient_key,
                        window=start.window,
                        seen=self.seen[-KEEP_SEEN:],
                        pending=self.pending,
                    )
                )

    def _critical(self) -> bool:
        return any(n.importance == "critical" for n in self.pending)

    async def _send(self, notices: list[Notice]) -> None:
        self.seen.extend(n.key for n in notices)
        del self.seen[:-KEEP_SEEN]
        self.sends += 1
        batch = Batch(
            recipient_key=self.start.recipient_key, notices=notices, batched_at=workflow.now()
        )
        try:
            await workflow.execute_activity(
                "send_notification",
                batch,
                result_type=Sent,
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=SEND_RETRY,
            )
        except ActivityError as exc:
            # Refused, or retries used up: the outbox row says so, for the case and the
            # supervisor; the notifier goes on with the next notices.
            workflow.logger.warning("notification to %s failed: %s", batch.recipient_key, exc)
            await workflow.execute_activity(
                "notification_failed",
                batch,
                start_to_close_timeout=timedelta(seconds=30),
            )
