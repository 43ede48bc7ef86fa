"""The Temporal worker: every workflow and activity of Caseflow, and the clients they use.

This is the only place that builds activity clients (database, rule book); tests build
the same worker with their own.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.requests import RequestActivities
from caseflow.db import make_engine, make_sessionmaker
from caseflow.rulebook import RuleHolder
from caseflow.settings import Settings, get_settings
from caseflow.sla import SlaBook
from caseflow.sla import load as load_sla
from caseflow.store.people import team_codes
from caseflow.temporal import connect
from workflows.absence import AbsenceWorkflow
from workflows.request import RequestWorkflow

log = logging.getLogger("caseflow.worker")

WORKFLOWS = [RequestWorkflow, AbsenceWorkflow]

# Our workflow modules and the pure core they use are deterministic by design and checked by
# replay tests; passing them through spares re-importing them for every workflow run, while
# the sandbox still guards against non-deterministic calls.
SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "workflows", "caseflow", "pydantic", "pydantic_core"
    )
)


def build_worker(
    client: Client,
    *,
    task_queue: str,
    sessions: async_sessionmaker[AsyncSession],
    rules: RuleHolder,
    sla: SlaBook | None = None,
    max_cached_workflows: int = 1000,
) -> Worker:
    requests = RequestActivities(sessions, rules, sla)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        workflow_runner=SANDBOX,
        max_cached_workflows=max_cached_workflows,
        activities=[
            requests.register_request,
            requests.assign_request,
            requests.record_request_event,
            requests.record_sla_ledger,
            requests.unstarted_requests,
            requests.sla_terms,
        ],
    )


async def run(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    rules = RuleHolder(settings.routing_rules_dir)  # a bad file stops start-up here
    sla_dir = settings.routing_rules_dir / "sla"
    sla = load_sla(sla_dir) if sla_dir.is_dir() else None  # a bad SLA policy stops it too
    engine = make_engine(settings.database_url)
    async with make_sessionmaker(engine)() as session:
        rules.reload(known_queues=await team_codes(session))  # and a queue nobody staffs
    client = await connect(settings)
    worker = build_worker(
        client,
        task_queue=settings.task_queue,
        sessions=make_sessionmaker(engine),
        rules=rules,
        sla=sla,
    )
    log.info(
        "worker started",
        extra={"task_queue": settings.task_queue, "rules": len(rules.current.rules)},
    )
    try:
        await worker.run()
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(run())
