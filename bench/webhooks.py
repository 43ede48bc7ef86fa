"""External-ticketing benchmark: webhook deliveries accepted per second, hand-off latency.

    .venv/bin/python bench/webhooks.py [--cases 40] [--deliveries 2000] [--concurrency 8]
                                       [--handoffs 20] [--no-rt]

A Temporal dev server, Caseflow's worker and API (their own processes, PostgreSQL), the
OTRS contract double from tests/ and, unless --no-rt, a real Request Tracker 5.

Deliveries: the cases are handed off to OTRS, then their status deliveries (30 % of them
repeats, shuffled) are posted to `POST /api/v1/webhooks/otrs`. Each answer means the
event is recorded once in PostgreSQL and signalled to its workflow. Baseline, in the same
run: the least a deduplicating receiver does — `INSERT … ON CONFLICT DO NOTHING` into
PostgreSQL and a Temporal signal to a workflow that runs one no-op local activity per
signal, for the same deliveries, from the same process (no HTTP).

Hand-off: `POST /requests/{id}/handoff` to RT until the live view shows the ticket id,
against one raw httpx `POST /ticket` to the same RT.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
from temporalio.client import Client

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import (
    PG_ADMIN,
    Figures,
    Stack,
    free_port,
    measure,
    prepare_database,
    seed_database,
    tear_down,
)
from bench.rawflow import RawTicket
from cli.demo import DEMO_NAMESPACE
from tests import otrs_double, rt_peer

OTRS_TOKEN = "bench-otrs-token"
INTAKE = {
    "customer_id": "",
    "channel": "phone",
    "topic": "consultation",
    "subject": "bench",
    "description": "bench",
}


def connectors_file(workdir: Path, otrs_url: str, rt: rt_peer.Rt | None) -> Path:
    connectors: list[dict[str, Any]] = [
        {
            "name": "otrs",
            "kind": "otrs",
            "base_url": otrs_url,
            "username": otrs_double.USER,
            "password": otrs_double.PASSWORD,
            "integration_user": otrs_double.USER,
            "webhook_token": OTRS_TOKEN,
            "queues": ["Billing"],
            "statuses": {
                "new": "open",
                "open": "open",
                "pending reminder": "pending",
                "closed": "resolved",
            },
        }
    ]
    if rt is not None:
        connectors.append(
            {
                "name": "rt",
                "kind": "request_tracker",
                "base_url": rt.base,
                "token": rt.token,
                "integration_user": "root",
                "queues": ["General"],
                "statuses": {"new": "open", "open": "open", "resolved": "resolved"},
            }
        )
    path = workdir / "connectors.yaml"
    path.write_text(json.dumps({"connectors": connectors}))  # JSON is YAML
    return path


async def open_cases(
    http: httpx.AsyncClient, headers: dict, count: int, customer: str
) -> list[str]:
    ids = []
    for _ in range(count):
        made = (
            await http.post("/requests", json={**INTAKE, "customer_id": customer}, headers=headers)
        ).json()
        if made["state"] == "registered":
            taken = await http.post(f"/requests/{made['id']}/take", json={}, headers=headers)
            assert taken.status_code == 200, taken.text
        started = await http.post(f"/requests/{made['id']}/start", json={}, headers=headers)
        assert started.status_code == 200, started.text
        ids.append(made["id"])
    return ids


async def ticket_of(http: httpx.AsyncClient, headers: dict, request_id: str) -> str:
    while True:
        view = (await http.get(f"/requests/{request_id}", headers=headers)).json()
        external = view.get("external") or {}
        if external.get("ticket_id"):
            return str(external["ticket_id"])
        await asyncio.sleep(0.05)


async def deliveries_bench(
    args: argparse.Namespace,
    http: httpx.AsyncClient,
    headers: dict,
    double: otrs_double.OtrsDouble,
    client: Client,
    url: str,
    customer: str,
) -> dict[str, Figures]:
    ids = await open_cases(http, headers, args.cases, customer)
    for request_id in ids:
        answer = await http.post(
            f"/requests/{request_id}/handoff",
            json={"system": "otrs", "note": "bench"},
            headers=headers,
        )
        assert answer.status_code == 200, answer.text
    tickets = [await ticket_of(http, headers, r) for r in ids]
    unique = int(args.deliveries * 0.7)
    per_ticket = max(1, unique // len(tickets))
    payloads = [
        double.agent_state(t, "open" if i % 2 else "pending reminder")
        for t in tickets
        for i in range(per_ticket)
    ]
    rng = random.Random(1)
    payloads += rng.sample(payloads, args.deliveries - len(payloads))
    rng.shuffle(payloads)

    figures = {"raw": Figures(), "caseflow": Figures()}
    bearer = {"Authorization": f"Bearer {OTRS_TOKEN}"}

    async def caseflow(i: int) -> None:
        answer = await http.post("/webhooks/otrs", json=payloads[i], headers=bearer)
        assert answer.status_code == 200, answer.text

    pg = await psycopg.AsyncConnection.connect(
        PG_ADMIN.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1], autocommit=True
    )
    await pg.execute(
        "CREATE TABLE raw_events (connector text, event_id text, body jsonb, "
        "PRIMARY KEY (connector, event_id))"
    )
    raw_ids = [f"raw-ticket-{uuid.uuid4()}" for _ in tickets]
    for workflow_id in raw_ids:
        await client.start_workflow(RawTicket.run, "x", id=workflow_id, task_queue="bench-raw")
    index_of = {t: n for n, t in enumerate(tickets)}
    lock = asyncio.Lock()
    signalled = dict.fromkeys(raw_ids, 0)

    async def raw(i: int) -> None:
        payload = payloads[i]
        ticket = payload["Ticket"]
        event_id = f"{ticket['TicketID']}:{payload['Event']['Event']}:{ticket['Changed']}"
        async with lock:  # one connection: statements one at a time
            found = await pg.execute(
                "INSERT INTO raw_events VALUES ('otrs', %s, %s) ON CONFLICT DO NOTHING "
                "RETURNING event_id",
                (event_id, json.dumps(payload)),
            )
            new = await found.fetchone() is not None
        if new:
            workflow_id = raw_ids[index_of[ticket["TicketID"]]]
            await client.get_workflow_handle(workflow_id).signal(RawTicket.event, event_id)
            signalled[workflow_id] += 1

    # Each path gets its own copy of the deliveries (the second would be all repeats).
    half = len(payloads) // 2
    await measure(16, args.concurrency, raw, Figures())  # warm up, then start afresh
    await pg.execute("TRUNCATE raw_events")
    await measure(half, args.concurrency, raw, figures["raw"])
    # The baseline's workflows finish applying its signals before Caseflow's deliveries
    # start: their backlog would otherwise take the machine from the path measured next.
    started = time.perf_counter()
    for workflow_id, count in signalled.items():
        handle = client.get_workflow_handle(workflow_id)
        applied = await handle.query(RawTicket.applied)
        while applied < count:
            await asyncio.sleep(0.2)
            applied = await handle.query(RawTicket.applied)
    print(f"raw signals applied by the baseline's workflows {time.perf_counter() - started:.1f} s "
          "after its last answer")  # fmt: skip
    await measure(half, args.concurrency, caseflow, figures["caseflow"])
    started = time.perf_counter()
    while True:  # the workflows apply what was accepted: wait until they are done
        seen = await (await pg.execute("SELECT count(*) FROM request_events")).fetchone()
        await asyncio.sleep(2)
        again = await (await pg.execute("SELECT count(*) FROM request_events")).fetchone()
        if seen == again:
            break
    print(
        f"accepted deliveries applied by the workflows {time.perf_counter() - started - 2:.1f} s "
        "after the last answer"
    )
    await pg.close()
    return figures


async def handoff_bench(
    args: argparse.Namespace, http: httpx.AsyncClient, headers: dict, rt: rt_peer.Rt, customer: str
) -> dict[str, list[float]]:
    ids = await open_cases(http, headers, args.handoffs, customer)
    times: dict[str, list[float]] = {"raw": [], "caseflow": []}
    async with httpx.AsyncClient(
        base_url=rt.base, timeout=60, headers={"Authorization": f"token {rt.token}"}
    ) as raw:
        # RT preforks ten workers that each compile on their first requests: warm them all.
        warm = {"Queue": "General", "Subject": "warm", "Content": "x", "ContentType": "text/plain"}
        search = {"query": "Subject LIKE 'caseflow:none'"}
        for _ in range(3):
            await asyncio.gather(*(raw.post("/ticket", json=warm) for _ in range(10)))
            await asyncio.gather(*(raw.get("/tickets", params=search) for _ in range(10)))
        for request_id in ids:
            started = time.perf_counter()
            made = await raw.post(
                "/ticket",
                json={
                    "Queue": "General",
                    "Subject": "raw bench",
                    "Content": "bench",
                    "ContentType": "text/plain",
                },
            )
            assert made.status_code == 201, made.text
            times["raw"].append(time.perf_counter() - started)
            started = time.perf_counter()
            answer = await http.post(
                f"/requests/{request_id}/handoff",
                json={"system": "rt", "note": "bench"},
                headers=headers,
            )
            assert answer.status_code == 200, answer.text
            await ticket_of(http, headers, request_id)
            times["caseflow"].append(time.perf_counter() - started)
    return times


async def run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="caseflow-bench-webhooks-"))
    url, pg_name = prepare_database("postgresql", workdir)
    await seed_database(url)
    double = otrs_double.OtrsDouble(free_port())
    double.start()
    rt = None if args.no_rt else await asyncio.to_thread(rt_peer.start, free_port())
    connectors = connectors_file(workdir, double.base_url, rt)
    stack = await Stack.start(
        url, "bench-webhooks", notifications="false", ticketing_file=str(connectors)
    )
    try:
        client = await Client.connect(stack.address)
        async with stack.http(timeout=120) as http:
            headers = await stack.operator(http)
            with psycopg.connect(PG_ADMIN.rsplit("/", 1)[0] + f"/{pg_name}") as conn:
                # Room for every case: the demo operator holds ten at most.
                conn.execute("UPDATE users SET capacity = 100000")
            customer = str(uuid.uuid5(DEMO_NAMESPACE, "ООО «Ромашка»"))
            figures = await deliveries_bench(args, http, headers, double, client, url, customer)
            report_deliveries(args, figures)
            if rt is not None:
                report_handoffs(args, await handoff_bench(args, http, headers, rt, customer))
    finally:
        await tear_down(stack.children, stack.server, pg_name)
        double.stop()
        if rt is not None:
            await asyncio.to_thread(rt_peer.stop)


def report_deliveries(args: argparse.Namespace, figures: dict[str, Figures]) -> None:
    print(
        f"webhook deliveries: {args.deliveries} for {args.cases} cases (30 % repeats, "
        f"shuffled), half per path, {args.concurrency} concurrent, PostgreSQL"
    )
    print(f"{'path':<52}{'per s':>8}{'p50 ms':>9}{'p95 ms':>9}")
    labels = {
        "raw": "raw: INSERT ON CONFLICT + signal (no HTTP)",
        "caseflow": "POST /webhooks/otrs (auth, dedup, record, signal)",
    }
    summary = {name: f.summary() for name, f in figures.items()}
    for name, n in summary.items():
        print(f"{labels[name]:<52}{n['rps']:>8.1f}{n['p50']:>9.1f}{n['p95']:>9.1f}")
    ratio = summary["caseflow"]["rps"] / summary["raw"]["rps"]
    print(f"throughput ratio caseflow/raw: {ratio:.2f}")


def report_handoffs(args: argparse.Namespace, times: dict[str, list[float]]) -> None:
    raw_p50 = statistics.median(times["raw"]) * 1000
    ours_p50 = statistics.median(times["caseflow"]) * 1000
    print(f"hand-off to Request Tracker 5, {args.handoffs} one after another")
    print(f"raw httpx POST /ticket:                  p50 {raw_p50:7.1f} ms")
    print(f"handoff until the view shows the ticket: p50 {ours_p50:7.1f} ms")
    print(f"latency ratio caseflow/raw: {ours_p50 / raw_p50:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=40)
    parser.add_argument("--deliveries", type=int, default=2000, help="for both paths together")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--handoffs", type=int, default=20)
    parser.add_argument("--no-rt", action="store_true", help="skip the hand-off latency")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
