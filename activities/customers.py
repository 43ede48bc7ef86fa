"""Customer activities: the steps of merging profiles and of undoing a merge (each one
transaction, safe to run again — `caseflow.customers.merges`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from caseflow.customers import merges
from caseflow.customers.merge_terms import MergeOutcome, MergeStart, Moved, MoveStep, UndoStep
from caseflow.customers.survivorship import Survivorship
from caseflow.models import CustomerMerge
from caseflow.platform.db import transaction


class CustomerActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], rules: Survivorship) -> None:
        self.sessions = sessions
        self.rules = rules

    @activity.defn
    async def begin_merge(self, start: MergeStart) -> None:
        try:
            async with transaction(self.sessions) as session:
                await merges.begin(session, self.rules, start)
        except merges.MergeRefused as exc:
            raise ApplicationError(str(exc), type="merge_refused", non_retryable=True) from exc

    @activity.defn
    async def move_merged(self, start: MergeStart) -> MoveStep:
        async with transaction(self.sessions) as session:
            count, told = await merges.move(session, start)
        return MoveStep(count=count, told=told)

    @activity.defn
    async def finish_merge(self, start: MergeStart) -> MergeOutcome:
        async with transaction(self.sessions) as session:
            return outcome(await merges.finish(session, start.merge_id), told=0)

    @activity.defn
    async def undo_merge(self, start: MergeStart) -> UndoStep:
        try:
            async with transaction(self.sessions) as session:
                merge, told = await merges.undo(session, self.rules, start)
                return UndoStep(outcome=outcome(merge, told=len(told)), told=told)
        except merges.MergeRefused as exc:
            raise ApplicationError(str(exc), type="merge_refused", non_retryable=True) from exc


def outcome(merge: CustomerMerge, told: int) -> MergeOutcome:
    """What the merge moved, counted by kind over all its duplicates."""
    counts: dict[str, int] = {kind: 0 for kind in Moved.model_fields}
    for moved in merge.moved.values():
        for kind, n in Moved.model_validate(moved).counts().items():
            counts[kind] += n
    return MergeOutcome(
        merge_id=merge.id, survivor=merge.survivor_id, duplicates=merge.duplicate_ids,
        status="undone" if merge.status == "undone" else "done", moved=counts, told=told,
    )  # fmt: skip
