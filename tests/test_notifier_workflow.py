"""NotifierWorkflow on the time-skipping server: digests, critical at once, no repeats.

The send activity here only records what it was given (the real one is tested against real
SMTP servers in test_email*.py); what is checked is when and how notices are batched.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest_asyncio
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from caseflow.mail.context import Batch, Notice, NotifierStart, Sent
from tests.conftest import capture_history
from workflows.notifier import NotifierWorkflow
from workflows.sandbox import SANDBOX

WINDOW = timedelta(minutes=1)


class Outbox:
    def __init__(self) -> None:
        self.batches: list[Batch] = []
        self.failed: list[Batch] = []
        self.refuse = False
        self.down_for: str | None = None  # a recipient whose relay answers 4xx
        self.attempts = 0
        self.repost: tuple[object, Notice] | None = None  # signalled while a send runs

    @activity.defn(name="send_notification")
    async def send(self, batch: Batch) -> Sent:
        if batch.recipient_key == self.down_for:
            self.attempts += 1
            raise ApplicationError("421 try again later", type="smtp_temporary")
        if self.refuse:
            raise ApplicationError("550 no such user", type="smtp_refused", non_retryable=True)
        if self.repost is not None:
            handle, again = self.repost
            self.repost = None
            await handle.signal("notice", again)  # type: ignore[attr-defined]
        self.batches.append(batch)
        return Sent(message_id=str(len(self.batches)), status="sent")

    @activity.defn(name="notification_failed")
    async def failed_(self, batch: Batch) -> None:
        self.failed.append(batch)


@pytest_asyncio.fixture(scope="module")
async def notifier(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[tuple]:
    outbox, queue = Outbox(), f"notify-{uuid.uuid4().hex}"
    async with Worker(
        time_skipping_env.client,
        task_queue=queue,
        workflows=[NotifierWorkflow],
        activities=[outbox.send, outbox.failed_],
        workflow_runner=SANDBOX,
    ):
        yield time_skipping_env, queue, outbox


async def post(env: WorkflowEnvironment, queue: str, recipient: str, notice: Notice):
    return await env.client.start_workflow(
        NotifierWorkflow.run,
        NotifierStart(recipient_key=recipient, window=WINDOW),
        id=f"notify-{recipient}",
        task_queue=queue,
        start_signal="notice",
        start_signal_args=[notice],
    )


async def notice(
    key: str,
    env: WorkflowEnvironment,
    importance: str = "normal",
    *,
    request: str | None = None,
    event: str = "request_assigned",
) -> Notice:
    at = await env.get_current_time()
    return Notice.model_validate(
        {"key": key, "event": event, "at": at, "importance": importance, "request_id": request}
    )


async def until(check: Callable[[], bool], seconds: float = 10) -> None:
    """Real time: the activity runs on the worker while the test server's clock stands."""
    for _ in range(int(seconds * 20)):
        if check():
            return
        await asyncio.sleep(0.05)


async def test_a_burst_becomes_one_email_after_the_window(notifier) -> None:
    env, queue, outbox = notifier
    recipient = f"customer:{uuid.uuid4()}"
    handle = await post(env, queue, recipient, await notice("a:1", env))
    await post(env, queue, recipient, await notice("a:2", env))
    await post(env, queue, recipient, await notice("a:1", env))  # posted again by a retry
    await env.sleep(WINDOW + timedelta(seconds=5))
    mine = [b for b in outbox.batches if b.recipient_key == recipient]
    assert [[n.key for n in b.notices] for b in mine] == [["a:1", "a:2"]]
    assert mine[0].batched_at - mine[0].notices[0].at >= WINDOW - timedelta(seconds=1)
    await env.sleep(timedelta(days=1, minutes=1))  # quiet for a day: the notifier ends
    assert await handle.result() == 1
    await capture_history(env.client, handle.id)


async def test_critical_goes_at_once_alone_and_the_waiting_keep_their_window(notifier) -> None:
    env, queue, outbox = notifier
    recipient = f"customer:{uuid.uuid4()}"
    handle = await post(env, queue, recipient, await notice("b:1", env, request="r1"))
    await post(env, queue, recipient, await notice("b:2", env, "critical", request="r2"))
    await until(lambda: any(b.recipient_key == recipient for b in outbox.batches))
    mine = [b for b in outbox.batches if b.recipient_key == recipient]
    assert [[n.key for n in b.notices] for b in mine] == [["b:2"]]
    await env.sleep(WINDOW + timedelta(seconds=5))
    mine = [b for b in outbox.batches if b.recipient_key == recipient]
    assert [[n.key for n in b.notices] for b in mine] == [["b:2"], ["b:1"]]
    critical, normal = mine
    assert critical.batched_at - critical.notices[0].at < timedelta(seconds=5)
    assert normal.batched_at - normal.notices[0].at >= WINDOW - timedelta(seconds=1)
    await handle.terminate("test done")


async def test_each_request_gets_its_own_email(notifier) -> None:
    env, queue, outbox = notifier
    recipient = f"customer:{uuid.uuid4()}"
    handle = await post(
        env, queue, recipient, await notice("d:1", env, request="214", event="request_registered")
    )
    await post(env, queue, recipient, await notice("e:1", env, request="212"))
    await post(env, queue, recipient, await notice("d:2", env, request="214"))
    await env.sleep(WINDOW + timedelta(seconds=5))
    mine = [b for b in outbox.batches if b.recipient_key == recipient]
    assert sorted(
        ([n.key for n in b.notices], {n.request_id for n in b.notices}) for b in mine
    ) == [
        (["d:1", "d:2"], {"214"}),
        (["e:1"], {"212"}),
    ]
    await env.sleep(timedelta(days=1, minutes=1))
    await handle.result()
    await capture_history(env.client, handle.id)


async def test_a_notice_overtaken_before_sending_is_skipped_as_superseded(notifier) -> None:
    env, queue, outbox = notifier
    recipient = f"customer:{uuid.uuid4()}"
    handle = await post(
        env, queue, recipient, await notice("f:1", env, request="212", event="info_requested")
    )
    await post(
        env, queue, recipient, await notice("f:2", env, request="212", event="request_resolved")
    )
    await env.sleep(WINDOW + timedelta(seconds=5))
    mine = [b for b in outbox.batches if b.recipient_key == recipient]
    assert [([n.event for n in b.notices], b.skip) for b in mine] == [
        (["request_resolved"], None),
        (["info_requested"], "superseded"),
    ]
    await handle.terminate("test done")


async def test_a_refused_email_is_marked_failed_and_the_notifier_goes_on(notifier) -> None:
    env, queue, outbox = notifier
    recipient = f"customer:{uuid.uuid4()}"
    outbox.refuse = True
    try:
        handle = await post(env, queue, recipient, await notice("c:1", env, "critical"))
        await until(lambda: any(b.recipient_key == recipient for b in outbox.failed))
    finally:
        outbox.refuse = False
    assert [[n.key for n in b.notices] for b in outbox.failed if b.recipient_key == recipient] == [
        ["c:1"]
    ]
    await post(env, queue, recipient, await notice("c:2", env, "critical"))
    await until(lambda: any(b.recipient_key == recipient for b in outbox.batches))
    sent = [b for b in outbox.batches if b.recipient_key == recipient]
    assert [[n.key for n in b.notices] for b in sent] == [["c:2"]]
    await handle.terminate("test done")


async def test_a_relay_that_stays_down_is_retried_often_until_the_budget_is_spent(
    notifier,
) -> None:
    env, queue, outbox = notifier
    recipient = f"customer:{uuid.uuid4()}"
    outbox.down_for = recipient
    handle = await env.client.start_workflow(
        NotifierWorkflow.run,
        NotifierStart(recipient_key=recipient, window=WINDOW, give_up_after=timedelta(minutes=10)),
        id=f"notify-{recipient}",
        task_queue=queue,
        start_signal="notice",
        start_signal_args=[await notice("g:1", env, "critical")],
    )
    for _ in range(40):  # the test server skips the retries' waits
        await env.sleep(timedelta(minutes=1))
        if any(b.recipient_key == recipient for b in outbox.failed):
            break
    assert [[n.key for n in b.notices] for b in outbox.failed if b.recipient_key == recipient] == [
        ["g:1"]
    ]  # given up after the budget (10 min here, two days by default), marked failed
    # At most 30 s apart: about 20 tries in 10 minutes (ten tries 5 s to 10 min apart before).
    assert outbox.attempts >= 15
    await handle.terminate("test done")


async def test_a_notice_posted_again_while_its_round_is_sent_goes_out_once(notifier) -> None:
    """Register_request posts again when it is retried (a worker killed after posting): if
    that lands while an earlier e-mail of the same round is going out, it is still a repeat."""
    env, queue, outbox = notifier
    recipient = f"customer:{uuid.uuid4()}"
    first = await notice("h:1", env, request="r1", event="request_registered")
    second = await notice("i:1", env, request="r2", event="request_registered")
    handle = await post(env, queue, recipient, first)
    await post(env, queue, recipient, second)
    outbox.repost = (handle, second)  # arrives while r1's e-mail is being sent
    await env.sleep(WINDOW + timedelta(seconds=5))
    await env.sleep(WINDOW + timedelta(seconds=5))
    mine = [b for b in outbox.batches if b.recipient_key == recipient]
    assert sorted([n.key for n in b.notices] for b in mine) == [["h:1"], ["i:1"]]
    await handle.terminate("test done")
