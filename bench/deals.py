"""Deals benchmark: deals driven through every stage vs the same number of raw updates.

    .venv/bin/python bench/deals.py [--deals 500] [--concurrency 8] [--rounds 4]

A Temporal dev server, Caseflow's worker (its own process, PostgreSQL read model) and a
baseline worker. `caseflow`: each deal is created (update-with-start) on the b2b pipeline
and taken through all five stages — completing the blocking tasks, advancing, winning —
ten updates per deal. `raw`: update-with-start plus nine updates on a workflow whose update
runs one no-op local activity. Throughput is deals per second; the history length of a
finished deal is printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import Figures, in_rounds, prepare_database, seed_database, tear_down
from bench.rawflow import RawDeal
from caseflow.deals.gates import DealAction, DealStart
from caseflow.payloads import Actor, Intake
from caseflow.platform.temporal import dev_server_path
from caseflow.requests.lifecycle import Role
from cli.demo import DEMO_NAMESPACE
from workflows.deal import DealWorkflow

OWNER = Actor(username="manager", role=Role.MANAGER, lines=[])
ROMASHKA = str(uuid.uuid5(DEMO_NAMESPACE, "ООО «Ромашка»"))
CUSTOMER = {
    "kind": "organization",
    "segment": "b2b_commercial",
    "inn": "7707083893",
    "kpp": "773601001",
}
FIELDS = {"budget": 1, "decision_maker": "CEO", "volume": 10, "tariff": "standard"}
STEPS = 10


async def drive_deal(client: Client, queue: str, histories: list[int]) -> None:
    start = DealStart(
        deal_id=str(uuid.uuid4()),
        pipeline="b2b",
        title="bench",
        owner=OWNER,
        customer=CUSTOMER,
        customer_id=ROMASHKA,
        fields=FIELDS,
        body_hash="b",
    )
    operation = WithStartWorkflowOperation(
        DealWorkflow.run,
        start,
        id=f"deal-{start.deal_id}",
        task_queue=queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    view = await client.execute_update_with_start_workflow(
        DealWorkflow.create, Intake(body_hash="b"), start_workflow_operation=operation
    )
    handle = client.get_workflow_handle_for(DealWorkflow.run, f"deal-{start.deal_id}")

    async def act(name: str, actor: Actor = OWNER, **data: object) -> None:
        nonlocal view
        action = DealAction.model_validate({"name": name, "actor": actor, **data})
        view = await handle.execute_update(DealWorkflow.act, action)

    for stage in range(5):
        for task in [t for t in view.tasks if t.status == "open" and t.blocking]:
            # Closed by whoever it is assigned to (a lawyer's task by the lawyer), as in life.
            role = Role.SUPERVISOR if task.assignee_role == "supervisor" else Role.MANAGER
            doer = Actor(username=task.assignee, role=role, lines=[])
            await act("complete_task", doer, task_id=task.id)
        if stage < 4:
            await act("advance")
    await act("win")
    if not histories:
        await handle.result()
        histories.append(len((await handle.fetch_history()).events))


async def raw_deal(client: Client, queue: str) -> None:
    workflow_id = f"raw-deal-{uuid.uuid4()}"
    operation = WithStartWorkflowOperation(
        RawDeal.run,
        "x",
        id=workflow_id,
        task_queue=queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    await client.execute_update_with_start_workflow(
        RawDeal.step, "create", start_workflow_operation=operation
    )
    handle = client.get_workflow_handle(workflow_id)
    for i in range(STEPS - 2):
        await handle.execute_update(RawDeal.step, f"step {i}")
    await handle.execute_update(RawDeal.step, "close")


async def run(args: argparse.Namespace) -> tuple[dict[str, dict[str, float]], int]:
    workdir = Path(tempfile.mkdtemp(prefix="caseflow-bench-deals-"))
    url, pg_name = prepare_database("postgresql", workdir)
    await seed_database(url)
    server = await WorkflowEnvironment.start_local(
        dev_server_existing_path=dev_server_path(), dev_server_log_level="error", ui=False
    )
    address = server.client.service_client.config.target_host
    env = {
        **os.environ,
        "CASEFLOW_DATABASE_URL": url,
        "CASEFLOW_TEMPORAL_ADDRESS": address,
        "CASEFLOW_TASK_QUEUE": "bench-deals",
        "CASEFLOW_LOG_LEVEL": "WARNING",
        "CASEFLOW_NOTIFICATIONS": "false",
    }
    children = [
        subprocess.Popen([sys.executable, "-m", "cli", "worker"], env=env, cwd=ROOT),
        subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "rawflow.py"), address, "bench-raw"], cwd=ROOT
        ),
    ]
    histories: list[int] = []
    figures = {"raw": Figures(), "caseflow": Figures()}
    try:
        client = await Client.connect(address, data_converter=pydantic_data_converter)
        calls = {
            "raw": lambda i: raw_deal(client, "bench-raw"),
            "caseflow": lambda i: drive_deal(client, "bench-deals", histories),
        }
        await in_rounds(
            calls,
            figures,
            total=args.deals,
            rounds=args.rounds,
            concurrency=args.concurrency,
            warm_up=8,
        )
    finally:
        await tear_down(children, server, pg_name)
    return {name: f.summary() for name, f in figures.items()}, histories[0]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deals", type=int, default=500, help="per path")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    results, history = asyncio.run(run(args))
    print(
        f"deals benchmark: {args.deals} deals per path ({STEPS} updates each) in "
        f"{args.rounds} rounds, {args.concurrency} concurrent, dev server"
    )
    print(f"{'path':<46}{'deals/s':>9}{'p50 ms':>10}{'p95 ms':>10}")
    labels = {
        "raw": "raw: 10 updates, no-op local activity",
        "caseflow": "DealWorkflow: all stages",
    }
    for name, n in results.items():
        print(f"{labels[name]:<46}{n['rps']:>9.1f}{n['p50']:>10.1f}{n['p95']:>10.1f}")
    print(
        f"throughput ratio caseflow/raw: {results['caseflow']['rps'] / results['raw']['rps']:.2f}"
    )
    print(f"history length of a finished deal: {history} events")


if __name__ == "__main__":
    main()
