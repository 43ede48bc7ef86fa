"""The baseline for bench/intake.py: update-with-start on a workflow that runs one no-op activity.

Run as a script, it is that workflow's worker: `python bench/rawflow.py ADDRESS TASK_QUEUE`.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker


@activity.defn
async def noop(value: str) -> str:
    return value


@workflow.defn
class RawIntake:
    def __init__(self) -> None:
        self.done = False
        self.release = False

    @workflow.run
    async def run(self, value: str) -> str:
        await workflow.execute_activity(noop, value, start_to_close_timeout=timedelta(seconds=10))
        self.done = True
        await workflow.wait_condition(lambda: self.release)
        return value

    @workflow.update
    async def intake(self, value: str) -> str:
        await workflow.wait_condition(lambda: self.done)
        return value

    @workflow.signal
    def finish(self) -> None:
        self.release = True


@workflow.defn
class RawDeal:
    """The baseline for bench/deals.py: updates that each run one no-op local activity."""

    def __init__(self) -> None:
        self.closed = False

    @workflow.run
    async def run(self, value: str) -> str:
        await workflow.wait_condition(lambda: self.closed)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return value

    @workflow.update
    async def step(self, value: str) -> str:
        result: str = await workflow.execute_local_activity(
            noop, value, start_to_close_timeout=timedelta(seconds=10)
        )
        if value == "close":
            self.closed = True
        return result


@workflow.defn
class RawTicket:
    """The baseline for bench/webhooks.py: each signal runs one no-op local activity."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.done = 0

    @workflow.run
    async def run(self, value: str) -> str:
        await workflow.wait_condition(lambda: False)
        return value

    @workflow.signal
    async def event(self, value: str) -> None:
        async with self.lock:
            await workflow.execute_local_activity(
                noop, value, start_to_close_timeout=timedelta(seconds=10)
            )
            self.done += 1

    @workflow.query
    def applied(self) -> int:
        """Signals applied so far: the bench waits for them before measuring the next path."""
        return self.done


async def main(address: str, task_queue: str) -> None:
    client = await Client.connect(address)
    worker = Worker(
        client, task_queue=task_queue, workflows=[RawIntake, RawDeal, RawTicket], activities=[noop]
    )
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
