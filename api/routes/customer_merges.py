"""Merging duplicate customer profiles into a survivor, and undoing a merge (supervisors
and admins): checked here, carried out by CustomerMergeWorkflow, answered when done."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from temporalio.client import WorkflowFailureError
from temporalio.common import WorkflowIDReusePolicy

from api.deadline import RETRY_AFTER
from api.deps import AppSettings, CurrentUser, DbSession, Temporal, actor_of
from api.problems import Problem, invalid
from caseflow import access
from caseflow.customers.merge_terms import MergeOutcome, MergeStart
from caseflow.models import Customer, CustomerMerge
from caseflow.requests.lifecycle import Role
from workflows.customer_merge import CustomerMergeWorkflow

router = APIRouter(prefix="/customers", tags=["customers"])
MERGERS = (Role.SUPERVISOR, Role.ADMIN)
WAIT = timedelta(seconds=60)  # a merge of ordinary size is done well within this


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    duplicates: list[str] = Field(min_length=1, max_length=20)
    reason: str = Field(min_length=1, max_length=2000)


class UnmergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    merge_id: str = Field(min_length=1, max_length=64)


def require_merger(user: CurrentUser) -> None:
    if user.role not in MERGERS:
        raise Problem(403, "forbidden", "merging customers is for supervisors and admins")


@router.post(
    "/{customer_id}/merge",
    response_model=MergeOutcome,
    operation_id="merge_customers",
    responses={409: {"description": "already_merged"}},
)
async def merge_customers(
    customer_id: str,
    body: MergeIn,
    db: DbSession,
    user: CurrentUser,
    temporal: Temporal,
    settings: AppSettings,
) -> MergeOutcome:
    """The duplicates become this customer: their facts, requests, deals, interactions,
    representatives and e-mails move here, and the profile is recomputed from all sources."""
    require_merger(user)
    survivor = await access.customer(db, user, customer_id)
    if customer_id in body.duplicates or len(set(body.duplicates)) != len(body.duplicates):
        raise invalid("duplicates", "each duplicate once, and not the survivor itself")
    for duplicate_id in body.duplicates:
        duplicate = await access.customer(db, user, duplicate_id)
        if duplicate.kind != survivor.kind:
            raise invalid(
                "duplicates", f"{duplicate_id} is a {duplicate.kind}, not a {survivor.kind}"
            )
    for one in (survivor.id, *body.duplicates):
        merged = await db.scalar(select(Customer.merged_into).where(Customer.id == one))
        if merged is not None:
            raise Problem(
                409, "already_merged", f"{one} is merged into {merged}", merged_into=merged
            )
    start = MergeStart(
        merge_id=str(uuid.uuid4()), survivor=survivor.id, duplicates=body.duplicates,
        reason=body.reason, actor=await actor_of(user, db),
    )  # fmt: skip
    await db.commit()
    return await carried_out(temporal, settings.task_queue, start)


@router.post(
    "/{customer_id}/unmerge", response_model=MergeOutcome, operation_id="unmerge_customers"
)
async def unmerge_customers(
    customer_id: str,
    body: UnmergeIn,
    db: DbSession,
    user: CurrentUser,
    temporal: Temporal,
    settings: AppSettings,
) -> MergeOutcome:
    """The merge undone: each duplicate stands again with its own sources and what moved."""
    require_merger(user)
    survivor = await access.customer(db, user, customer_id)
    merge = await db.get(CustomerMerge, body.merge_id)
    if merge is None or merge.survivor_id != survivor.id:
        raise Problem(404, "not_found", f"no merge {body.merge_id} into this customer")
    if merge.status != "done":
        raise Problem(409, "illegal_transition", f"the merge is {merge.status}")
    start = MergeStart(
        merge_id=merge.id, survivor=survivor.id, duplicates=merge.duplicate_ids,
        reason=merge.reason, actor=await actor_of(user, db), undo=True,
    )  # fmt: skip
    await db.commit()
    return await carried_out(temporal, settings.task_queue, start, "-undo")


async def carried_out(
    temporal: Temporal, task_queue: str, start: MergeStart, suffix: str = ""
) -> MergeOutcome:
    """Run the merge workflow and wait for its outcome (503 while no worker answers; the
    workflow goes on and finishes once one does)."""
    workflow_id = f"customer-merge-{start.merge_id}{suffix}"
    try:
        return await asyncio.wait_for(
            temporal.execute_workflow(
                CustomerMergeWorkflow.run, start, id=workflow_id, task_queue=task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            ),
            timeout=WAIT.total_seconds(),
        )  # fmt: skip
    except TimeoutError as exc:
        raise Problem(
            503, "not_done_yet", f"the merge {start.merge_id} goes on; ask again later",
            merge_id=start.merge_id, retry_after=RETRY_AFTER,
        ) from exc  # fmt: skip
    except WorkflowFailureError as exc:
        raise Problem(409, "merge_refused", str(exc.cause or exc)) from exc
