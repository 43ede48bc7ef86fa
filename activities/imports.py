"""Import activities: batches of a customer import, each with its checkpoint in the same
transaction — retried after a crash, a batch is either done already or done now.
A batch heartbeats while it runs, so a worker killed in the middle of one is noticed within
the workflow's heartbeat timeout (seconds), not at the end of the batch's whole allowance."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from caseflow.customers import import_jobs
from caseflow.customers.import_terms import ImportProgress
from caseflow.customers.survivorship import Survivorship


class ImportActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], rules: Survivorship) -> None:
        self.sessions, self.rules = sessions, rules

    @activity.defn
    async def import_batch(self, import_id: str) -> ImportProgress:
        """Batches for about import_jobs.RUN_FOR seconds (or to the end), each committed with
        its checkpoint: a call cut short leaves the import at its last batch written."""
        beating = asyncio.create_task(_beat())
        try:
            return await import_jobs.run_for(self.sessions, self.rules, import_id)
        except LookupError as exc:
            raise ApplicationError(str(exc), type="unknown_import", non_retryable=True) from exc
        finally:
            beating.cancel()


async def _beat(every: float = 1.0) -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(every)
