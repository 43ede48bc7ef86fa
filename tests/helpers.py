"""Shared steps of the workflow and API tests."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy

from caseflow.payloads import Action, Actor, CustomerFacts, Intake, RequestStart, RequestView
from caseflow.requests.lifecycle import Line, Role
from cli.demo import DEMO_NAMESPACE
from workflows.request import RequestWorkflow

ROMASHKA = str(uuid.uuid5(DEMO_NAMESPACE, "ООО «Ромашка»"))
PETROV = str(uuid.uuid5(DEMO_NAMESPACE, "Иван Петров"))

OPERATOR = Actor(username="operator", role=Role.OPERATOR, lines=[Line.L1], team="hotline")
AGENT_B2B = Actor(username="agent2-b2b", role=Role.AGENT, lines=[Line.L2], team="l2-b2b")
EXPERT = Actor(username="expert3", role=Role.AGENT, lines=[Line.L3], team="l3-experts")
SUPERVISOR = Actor(username="supervisor", role=Role.SUPERVISOR, lines=list(Line))
MANAGER = Actor(username="manager", role=Role.MANAGER, lines=[])

ROMASHKA_FACTS = CustomerFacts(
    id=ROMASHKA,
    name="ООО «Ромашка»",
    kind="organization",
    region="RU-MOW",
    segment="b2b_commercial",
    tier="standard",
)


def request_start(
    *,
    customer: CustomerFacts = ROMASHKA_FACTS,
    topic: str = "consultation",
    auto_close_after: timedelta = timedelta(days=3),
) -> RequestStart:
    return RequestStart(
        request_id=str(uuid.uuid4()),
        body_hash=hashlib.sha256(b"body").hexdigest(),
        customer=customer.model_copy(deep=True),  # tests may change it; the shared one stays
        channel="phone",
        topic=topic,
        subject="Тариф",
        description="Как сменить тариф?",
        created_by=OPERATOR,
        auto_close_after=auto_close_after,
    )


async def open_request(
    client: Client, task_queue: str, start: RequestStart | None = None
) -> tuple[WorkflowHandle, RequestView]:
    start = start or request_start()
    operation = WithStartWorkflowOperation(
        RequestWorkflow.run,
        start,
        id=f"request-{start.request_id}",
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    view = await client.execute_update_with_start_workflow(
        RequestWorkflow.intake,
        Intake(body_hash=start.body_hash),
        start_workflow_operation=operation,
    )
    return client.get_workflow_handle_for(RequestWorkflow.run, f"request-{start.request_id}"), view


async def act(
    handle: WorkflowHandle, name: str, actor: Actor = OPERATOR, **fields: object
) -> RequestView:
    action = Action.model_validate({"name": name, "actor": actor, **fields})
    result: RequestView = await handle.execute_update(RequestWorkflow.act, action)
    return result
