"""A request's life in history events, and the worker's memory with many requests open.

    .venv/bin/python bench/lifecycle.py [--open 1000,10000] [--cache 1000] [--concurrency 16]

Starts a Temporal dev server, Caseflow's worker and API (PostgreSQL, e-mail off) as child
processes, as bench/intake.py does. Then:

1. One request through a typical life over the API — register (assigned by the rules),
   start, request-info, the customer's reply, escalate to L2, return, start, resolve,
   close — and the length of its workflow history. Goal: ≤ 150 events.
2. Requests registered until `--open` are open (through the SDK, as the API's intake does),
   the worker's resident memory read from /proc after each level, beside the same worker's
   memory before the first request (its baseline, in the same run). The worker keeps
   `--cache` workflows in its sticky cache (CASEFLOW_WORKER_CACHED_WORKFLOWS; the shipped
   default unless told). Goal: ≤ 300 MiB RSS at 10,000 open requests.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import (
    Figures,
    Stack,
    measure,
    prepare_database,
    register_direct,
    seed_database,
    tear_down,
)
from caseflow.payloads import Actor, CustomerFacts
from caseflow.platform.settings import Settings
from caseflow.requests.lifecycle import Line, Role
from cli.demo import DEMO_NAMESPACE

LIFE = [  # (who, action, body): a typical life of a request after its registration
    ("operator", "start", {}),
    ("operator", "request-info", {"message": "Пришлите номер договора"}),
    ("operator", "customer-reply", {"message": "Договор 77-01"}),
    ("operator", "escalate", {"to_line": "L2", "reason": "нужны права второй линии"}),
    ("agent2-b2b", "return", {"reason": "вопрос первой линии"}),
    ("operator", "start", {}),
    ("operator", "resolve", {"resolution": "Сделано"}),
    ("operator", "close", {}),
]
GOAL_EVENTS = 150
GOAL_MIB = 300


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


async def tokens(http: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    found = {}
    for who in ("operator", "agent2-b2b"):
        answer = await http.post("/auth/token", data={"username": who, "password": "demo"})
        found[who] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    return found


async def one_life(http: httpx.AsyncClient, client: Client) -> tuple[int, list[str]]:
    """The history length of one request lived through LIFE, and the actions it took."""
    who = await tokens(http)
    customer = str(uuid.uuid5(DEMO_NAMESPACE, "ООО «Ромашка»"))  # the demo company
    body = {"customer_id": customer, "channel": "phone", "topic": "consultation",
            "subject": "Жизнь обращения", "description": "bench/lifecycle.py"}  # fmt: skip
    made = await http.post("/requests", json=body, headers=who["operator"])
    assert made.status_code == 201, made.text
    request = made.json()
    done = ["register"]
    for person, action, step in LIFE:
        answer = await http.post(
            f"/requests/{request['id']}/{action}", json=step, headers=who[person]
        )
        assert answer.status_code == 200, f"{action}: {answer.text}"
        done.append(action)
    history = await client.get_workflow_handle(f"request-{request['id']}").fetch_history()
    return len(history.events), done


async def run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="caseflow-lifecycle-bench-"))
    url, name = prepare_database("postgresql", workdir)
    await seed_database(url)
    stack = await Stack.start(
        url, "bench-lifecycle", notifications="false", worker_cached_workflows=str(args.cache)
    )
    worker_pid = stack.children[0].pid
    try:
        client = await Client.connect(stack.address, data_converter=pydantic_data_converter)
        async with stack.http() as http:
            await stack.operator(http)
            baseline = rss_mib(worker_pid)
            events, actions = await one_life(http, client)
        facts = CustomerFacts(
            id=str(uuid.uuid5(DEMO_NAMESPACE, "ООО «Ромашка»")),
            name="bench", kind="organization", region="RU-MOW", segment="b2b_commercial",
            tier="standard",
        )  # fmt: skip
        actor = Actor(username="operator", role=Role.OPERATOR, lines=[Line.L1])

        async def register(i: int) -> None:
            await register_direct(client, "bench-lifecycle", facts, actor, f"open {i}")

        memory = []
        opened = 0
        started = time.perf_counter()
        for level in args.open:
            await measure(level - opened, args.concurrency, register, Figures())
            opened = level
            await asyncio.sleep(2)  # the last workflow tasks settle
            memory.append((level, rss_mib(worker_pid)))
        took = time.perf_counter() - started
    finally:
        await tear_down(stack.children, stack.server, name)

    print("a request's life: " + " → ".join(actions))
    print(f"  history: {events} events   (goal: <= {GOAL_EVENTS})")
    print(f"worker memory (RSS), sticky cache of {args.cache} workflows, e-mail off, PostgreSQL:")
    print(f"  started, before any request   {baseline:8.1f} MiB")
    for level, mib in memory:
        print(f"  {level:>7,} requests open         {mib:8.1f} MiB   "
              f"{mib / baseline:5.2f}× the started worker")  # fmt: skip
    print(f"  ({opened:,} registered in {took:.0f} s; goal: <= {GOAL_MIB} MiB at 10,000)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--open", type=lambda s: [int(n) for n in s.split(",")], default=[1000, 10000]
    )
    parser.add_argument(
        "--cache", type=int, default=Settings.model_fields["worker_cached_workflows"].default
    )
    parser.add_argument("--concurrency", type=int, default=16)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
