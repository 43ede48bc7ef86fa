"""Intake benchmark: Caseflow's POST /requests against raw Temporal update-with-start.

Starts a Temporal dev server, Caseflow's worker and API, and a baseline worker as child
processes, then sends the same load to every path in one run, in rounds of rotating order
(so no path always meets the fuller server), and prints the figures:

    .venv/bin/python bench/intake.py [--requests 200] [--concurrency 8] [--rounds 4]
                                     [--db postgresql|sqlite]
                                     [--paths raw,direct,http,http-unaudited]

Paths: `raw` is update-with-start on a workflow running one no-op activity; `direct` is
update-with-start on RequestWorkflow through the SDK (no HTTP); `http` is POST /requests;
`http-unaudited` is the same on a second API process with the audit log off.
Goals: Caseflow ≥ 0.8× raw throughput and p95 ≤ 1.5× raw p95 (issue 3); with the audit
log on, throughput within 5 % of it off (issue 14).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

import httpx
import psycopg
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.rawflow import RawIntake
from caseflow.payloads import Actor, CustomerFacts, Intake, RequestStart
from caseflow.platform import db as database
from caseflow.platform.temporal import dev_server_path
from caseflow.requests.lifecycle import Line, Role
from cli.demo import DEMO_NAMESPACE, seed
from cli.devstack import wait_for_port
from workflows.request import RequestWorkflow

PG_ADMIN = os.environ.get("CASEFLOW_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
LABELS = {
    "raw": "raw update-with-start + activity",
    "direct": "caseflow RequestWorkflow via SDK",
    "http": "caseflow POST /api/v1/requests",
    "http-unaudited": "same, audit log off",
}
Call = Callable[[int], Awaitable[None]]


class Figures:
    """Latencies and busy time of one path, gathered over several rounds."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.elapsed = 0.0

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.latencies)
        return {
            "rps": len(ordered) / self.elapsed,
            "p50": statistics.median(ordered) * 1000,
            "p95": ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000,
        }


async def measure(n: int, concurrency: int, call: Call, into: Figures) -> None:
    """n calls, `concurrency` at a time."""
    next_index = 0

    async def lane() -> None:
        nonlocal next_index
        while next_index < n:
            index = next_index
            next_index += 1
            started = time.perf_counter()
            await call(index)
            into.latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    into.elapsed += time.perf_counter() - started


async def in_rounds(
    calls: Mapping[str, Call],
    figures: dict[str, Figures],
    *,
    total: int,
    rounds: int,
    concurrency: int,
    warm_up: int = 16,
) -> None:
    """Warm every path up, then `total` calls per path in rounds of rotating order, so no
    path always meets the fuller server."""
    for call in calls.values():
        await measure(warm_up, concurrency, call, Figures())
    order = list(calls)
    for round_no in range(rounds):
        shift = round_no % len(order)
        for name in order[shift:] + order[:shift]:
            await measure(total // rounds, concurrency, calls[name], figures[name])


async def tear_down(
    children: list[subprocess.Popen[bytes]], server: WorkflowEnvironment, pg_name: str | None
) -> None:
    """Stop the benchmark's processes and server and drop its database."""
    for child in children:
        child.terminate()
    for child in children:
        child.wait(timeout=30)
    await server.shutdown()
    if pg_name:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_database(kind: str, workdir: Path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{workdir / 'bench.db'}", None
    name = f"caseflow_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{base}/{name}", name


async def seed_database(url: str) -> None:
    database.upgrade(url.replace("+aiosqlite", ""))
    engine = database.make_engine(url)
    async with database.transaction(database.make_sessionmaker(engine)) as session:
        await seed(session)
    await engine.dispose()


async def register_direct(
    client: Client, task_queue: str, facts: CustomerFacts, actor: Actor, subject: str
) -> None:
    """Update-with-start of a RequestWorkflow through the SDK, as the API does it."""
    start = RequestStart(
        request_id=str(uuid.uuid4()),
        body_hash="b",
        customer=facts,
        channel="phone",
        topic="consultation",
        subject=subject,
        description="benchmark intake",
        created_by=actor,
    )
    operation = WithStartWorkflowOperation(
        RequestWorkflow.run,
        start,
        id=f"request-{start.request_id}",
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    await client.execute_update_with_start_workflow(
        RequestWorkflow.intake, Intake(body_hash="b"), start_workflow_operation=operation
    )


def make_calls(
    address: str,
    http: httpx.AsyncClient,
    unaudited: httpx.AsyncClient,
    headers: dict[str, str],
    raw_client: Client,
    case_client: Client,
) -> dict[str, Call]:
    customer = str(uuid.uuid5(DEMO_NAMESPACE, "ООО «Ромашка»"))
    facts = CustomerFacts(
        id=customer,
        name="bench",
        kind="organization",
        region="RU-MOW",
        segment="b2b_commercial",
        tier="standard",
    )
    actor = Actor(username="operator", role=Role.OPERATOR, lines=[Line.L1])

    async def raw(i: int) -> None:
        operation = WithStartWorkflowOperation(
            RawIntake.run,
            f"v{i}",
            id=f"raw-{uuid.uuid4()}",
            task_queue="bench-raw",
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        await raw_client.execute_update_with_start_workflow(
            RawIntake.intake, f"v{i}", start_workflow_operation=operation
        )

    async def direct(i: int) -> None:
        await register_direct(case_client, "bench-caseflow", facts, actor, f"bench {i}")

    def over(client: httpx.AsyncClient) -> Call:
        async def call(i: int) -> None:
            body = {
                "customer_id": customer,
                "channel": "phone",
                "topic": "consultation",
                "subject": f"bench {i}",
                "description": "benchmark intake",
            }
            answer = await client.post(
                "/requests", json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
            )
            assert answer.status_code == 201, answer.text

        return call

    return {
        "raw": raw,
        "direct": direct,
        "http": over(http),
        "http-unaudited": over(unaudited),
    }


class Stack:
    """A dev server, Caseflow's worker and API and the baseline worker, as child processes."""

    def __init__(
        self,
        server: WorkflowEnvironment,
        children: list[subprocess.Popen[bytes]],
        api_port: int,
        unaudited_port: int,
    ) -> None:
        self.server, self.children, self.api_port = server, children, api_port
        self.unaudited_port = unaudited_port
        self.address = server.client.service_client.config.target_host

    @classmethod
    async def start(cls, url: str, task_queue: str, **settings: str) -> Stack:
        server = await WorkflowEnvironment.start_local(
            dev_server_existing_path=dev_server_path(), dev_server_log_level="error", ui=False
        )
        address = server.client.service_client.config.target_host
        api_port, unaudited_port = free_port(), free_port()
        env = {
            **os.environ,
            "CASEFLOW_DATABASE_URL": url,
            "CASEFLOW_TEMPORAL_ADDRESS": address,
            "CASEFLOW_TASK_QUEUE": task_queue,
            "CASEFLOW_LOG_LEVEL": "WARNING",
            **{f"CASEFLOW_{name.upper()}": value for name, value in settings.items()},
        }
        cli = [sys.executable, "-m", "cli"]
        children = [
            subprocess.Popen([*cli, "worker"], env=env, cwd=ROOT),
            subprocess.Popen([*cli, "api", "--port", str(api_port)], env=env, cwd=ROOT),
            subprocess.Popen(
                [*cli, "api", "--port", str(unaudited_port)],
                env={**env, "CASEFLOW_AUDIT": "false"},
                cwd=ROOT,
            ),
            subprocess.Popen(
                [sys.executable, str(ROOT / "bench" / "rawflow.py"), address, "bench-raw"],
                cwd=ROOT,
            ),
        ]
        return cls(server, children, api_port, unaudited_port)

    async def operator(self, http: httpx.AsyncClient) -> dict[str, str]:
        """Once the API is ready: the operator's authorisation header."""
        for port in (self.api_port, self.unaudited_port):
            wait_for_port(port)
            for _ in range(150):
                if (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    break
                await asyncio.sleep(0.2)
        token = (
            await http.post("/auth/token", data={"username": "operator", "password": "demo"})
        ).json()
        return {"Authorization": f"Bearer {token['access_token']}"}

    def http(self, timeout: float = 60, audited: bool = True) -> httpx.AsyncClient:
        port = self.api_port if audited else self.unaudited_port
        return httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=timeout)


async def run(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    workdir = Path(tempfile.mkdtemp(prefix="caseflow-bench-"))
    url, pg_name = prepare_database(args.db, workdir)
    await seed_database(url)
    stack = await Stack.start(url, "bench-caseflow")
    figures = {name: Figures() for name in LABELS if name in args.paths}
    try:
        raw_client = await Client.connect(stack.address)
        case_client = await Client.connect(stack.address, data_converter=pydantic_data_converter)
        async with stack.http() as http, stack.http(audited=False) as unaudited:
            headers = await stack.operator(http)
            calls = make_calls(stack.address, http, unaudited, headers, raw_client, case_client)
            await in_rounds(
                {name: calls[name] for name in figures},
                figures,
                total=args.requests,
                rounds=args.rounds,
                concurrency=args.concurrency,
            )
    finally:
        await tear_down(stack.children, stack.server, pg_name)
    return {name: f.summary() for name, f in figures.items()}


def report(args: argparse.Namespace, results: dict[str, dict[str, float]]) -> None:
    print(
        f"intake benchmark: {args.requests} requests per path in {args.rounds} rounds, "
        f"{args.concurrency} concurrent, database {args.db}"
    )
    print(f"{'path':<34}{'req/s':>9}{'p50 ms':>10}{'p95 ms':>10}")
    for name, numbers in results.items():
        print(
            f"{LABELS[name]:<34}{numbers['rps']:>9.1f}{numbers['p50']:>10.1f}"
            f"{numbers['p95']:>10.1f}"
        )
    if "raw" in results and "http" in results:
        raw, ours = results["raw"], results["http"]
        print(f"throughput ratio caseflow/raw: {ours['rps'] / raw['rps']:.2f} (goal >= 0.80)")
        print(f"p95 ratio caseflow/raw:        {ours['p95'] / raw['p95']:.2f} (goal <= 1.50)")
    if "http" in results and "http-unaudited" in results:
        on, off = results["http"], results["http-unaudited"]
        print(f"throughput ratio audit on/off: {on['rps'] / off['rps']:.2f} (goal >= 0.95)")
        print(f"p95 ratio audit on/off:        {on['p95'] / off['p95']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200, help="per path")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--paths", default="raw,direct,http,http-unaudited")
    args = parser.parse_args()
    args.paths = set(args.paths.split(","))
    report(args, asyncio.run(run(args)))


if __name__ == "__main__":
    main()
