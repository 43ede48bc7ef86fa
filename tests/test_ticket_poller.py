"""The RT poller workflow alone (time-skipping server, the RT calls replaced): what it finds
reaches the requests, is confirmed, and its cursor survives continue-as-new."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from temporalio import activity, workflow
from temporalio.worker import Worker

from caseflow.tickets.connectors import Delivery, Polled, PollInput, Signalled, TicketChange
from workflows.ticket_poller import PollerStart, TicketPollerWorkflow


@workflow.defn(sandboxed=False)
class Listener:
    """Stands for a request: keeps the event ids signalled to it."""

    def __init__(self) -> None:
        self.got: list[str] = []

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.signal
    def ticket_event(self, change: TicketChange) -> None:
        self.got.append(change.event_id)

    @workflow.query
    def received(self) -> list[str]:
        return self.got


class FakeRt:
    """Each poll finds the next transaction of ticket 7, after the cursor it is given."""

    def __init__(self, listener: str) -> None:
        self.listener = listener
        self.cursors: list[int] = []
        self.confirmed: list[str] = []

    @activity.defn(name="poll_tickets")
    async def poll(self, cursor: PollInput) -> Polled:
        self.cursors.append(cursor.txn)
        txn = cursor.txn + 1
        change = TicketChange(
            connector="rt",
            ticket_id="7",
            event_id=f"txn-{txn}",
            order=float(txn),
            kind="status",
            at=datetime.now(UTC),
            status="open",
        )
        found = [Delivery(workflow_id=self.listener, change=change)]
        return Polled(deliveries=found, since="2026-11-23 10:00:00", txn=txn)

    @activity.defn(name="mark_signalled")
    async def mark(self, data: Signalled) -> None:
        self.confirmed += data.event_ids


async def test_changes_reach_their_request_and_the_cursor_survives_continue_as_new(env) -> None:
    workflow_env, _ = env
    client = workflow_env.client
    queue = f"poller-{uuid.uuid4().hex}"
    listener = f"listener-{uuid.uuid4().hex}"
    rt = FakeRt(listener)
    async with Worker(
        client,
        task_queue=queue,
        workflows=[TicketPollerWorkflow, Listener],
        activities=[rt.poll, rt.mark],
    ):
        await client.start_workflow(Listener.run, id=listener, task_queue=queue)
        poller = await client.start_workflow(
            TicketPollerWorkflow.run,
            PollerStart(cursor=PollInput(connector="rt"), every=timedelta(seconds=5), rounds=3),
            id=f"ticket-poller-{uuid.uuid4().hex}",
            task_queue=queue,
        )
        while len(rt.cursors) < 7:  # two runs of three rounds, and one more poll
            await workflow_env.sleep(5)
        received = await client.get_workflow_handle(listener).query(Listener.received)
        await poller.terminate("test over")
    assert rt.cursors[:7] == [0, 1, 2, 3, 4, 5, 6]  # each poll after the last, across runs
    assert received[:6] == [f"txn-{n}" for n in range(1, 7)]
    assert rt.confirmed[:6] == received[:6]
