"""NotifierWorkflow: one per recipient; turns notices into e-mails without storms.

Requests post notices by signal-with-start (`notify-<recipient>`). A critical notice is
sent at once, alone; normal ones wait for the digest window, so a burst (registered +
assigned in the same minute) becomes one e-mail. An e-mail is about one request (its
Reply-To threads the answer into that case): notices of several requests are several
e-mails. A notice overtaken by a later one of its request before sending ("we need
information", then "resolved") is not sent but recorded as skipped, superseded. A notice
key seen before is ignored. The workflow ends after a quiet day and continues-as-new
before its history grows long.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NotificationActivities
    from caseflow.mail.context import Batch, Notice, NotifierStart, Resend
    from caseflow.mail.notices import per_request, superseded

# Before this patch a critical notice took every waiting one along, into one digest.
PER_REQUEST_PATCH = "digest-per-request"

QUIET = timedelta(days=1)
KEEP_SEEN = 500
SENDS_PER_RUN = 200
# 4xx and dropped connections: retried for the notifier's `give_up_after` (two days by
# default, like an MTA's queue lifetime), at most 30 s apart, so that the first e-mail after
# a relay outage goes out within half a minute of its return.
SEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["smtp_refused", "template_error", "unknown_notification"],
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
            if workflow.patched(PER_REQUEST_PATCH):
                await self._send_due()
            else:
                await self._wait_window()
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

    async def _wait_window(self) -> None:
        """Wait out the window from the first waiting notice, unless a critical one arrives."""
        if self._critical():
            return
        left = self.pending[0].at + self.start.window - workflow.now()
        if left > timedelta(0):
            try:
                await workflow.wait_condition(self._critical, timeout=left)
            except TimeoutError:
                pass

    async def _send_due(self) -> None:
        """Critical notices at once, each alone; the rest when the window is out, one e-mail
        per request; whatever a later notice overtook is recorded as skipped."""
        await self._wait_window()
        waiting = sorted(self.pending, key=order)
        stale = {n.key for n in superseded(waiting)}
        critical = self._critical()
        due = [
            n
            for n in waiting
            if n.key not in stale and (n.importance == "critical" or not critical)
        ]
        sent = stale | {n.key for n in due}
        self.pending = [n for n in waiting if n.key not in sent]
        # Seen before the first send: a notice posted again (a retried activity) while an
        # earlier e-mail of this round is going out must not slip back into `pending`.
        self._remember(sorted(sent))
        for notices in per_request(due):
            await self._send(notices)
        for notices in per_request([n for n in waiting if n.key in stale]):
            await self._send(notices, skip="superseded")

    def _remember(self, keys: list[str]) -> None:
        self.seen.extend(k for k in keys if k not in self.seen)
        del self.seen[:-KEEP_SEEN]

    async def _send(self, notices: list[Notice], skip: str | None = None) -> None:
        self._remember([n.key for n in notices])
        self.sends += 1
        batch = Batch(
            recipient_key=self.start.recipient_key,
            notices=notices,
            batched_at=workflow.now(),
            skip=skip,
        )
        try:
            await workflow.execute_activity_method(
                NotificationActivities.send_notification,
                batch,
                start_to_close_timeout=timedelta(minutes=2),
                schedule_to_close_timeout=self.start.give_up_after,
                retry_policy=SEND_RETRY,
            )
        except ActivityError as exc:
            # Refused, or retries used up: the outbox row says so, for the case and the
            # supervisor; the notifier goes on with the next notices.
            workflow.logger.warning("notification to %s failed: %s", batch.recipient_key, exc)
            await workflow.execute_activity_method(
                NotificationActivities.notification_failed,
                batch,
                start_to_close_timeout=timedelta(seconds=30),
            )


@workflow.defn
class ResendWorkflow:
    """A failed e-mail sent again by hand (`POST /supervisor/notifications/{id}/resend`,
    `caseflow mail resend`): the stored e-mail, its own Message-ID, the same retries."""

    @workflow.run
    async def run(self, resend: Resend) -> str:
        try:
            sent = await workflow.execute_activity_method(
                NotificationActivities.resend_notification,
                resend.message_id,
                start_to_close_timeout=timedelta(minutes=2),
                schedule_to_close_timeout=resend.give_up_after,
                retry_policy=SEND_RETRY,
            )
        except ActivityError:
            await workflow.execute_activity_method(
                NotificationActivities.resend_failed,
                resend.message_id,
                start_to_close_timeout=timedelta(seconds=30),
            )
            return "failed"
        return sent.status
