"""SLA benchmark: how late breaches are recorded, and the supervisors' queries at scale.

    .venv/bin/python bench/sla.py [--deadlines 1000] [--spread 60] [--workers 1] [--rows 1000000]
                                  [--parts timers,queries]

(a) `timers`: a Temporal dev server and Caseflow's worker; `--deadlines` requests are
registered evenly over `--spread` seconds under a 24×7 policy whose first-response target is
30 s, so their deadlines are spread over the same span. Lateness of a breach = the time the
workflow recorded it − its due time (registration + target). Goal: p99 ≤ 1 s.

(b) `queries`: `--rows` requests with two SLA clocks each are written into PostgreSQL
(5 % open, 1 % of them breached), then the breaches page, the at-risk window and the
at-risk forecast (queue depths and median handling times) are timed against a primary-key
lookup of a request in the same run, right after the load and again once it is vacuumed
(as autovacuum does within minutes of a bulk insert). Goal: the pages ≤ 3× the lookup, the
forecast ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import PG_ADMIN, free_port, prepare_database, register_direct, seed_database
from caseflow import access
from caseflow.access import Kind
from caseflow.models import Request, RequestEvent, User
from caseflow.payloads import Actor, CustomerFacts
from caseflow.platform import db as database
from caseflow.platform.temporal import dev_server_path
from caseflow.requests.lifecycle import Line, Role
from caseflow.sla import reports as sla_reports
from caseflow.sla.reports import Filters
from cli.demo import DEMO_NAMESPACE

TARGET = timedelta(seconds=30)
# In front of the shipped policies (which the pipelines' calendars come from), for the
# bench's customer only.
POLICY = """
policies:
  - name: bench
    when: {region: RU-MOW}
    calendar: round-the-clock
    warn_at: 0.5
    targets:
      L1: {first_response: PT30S, resolution: PT1H}
      L2: {first_response: PT30S, resolution: PT1H}
"""
CUSTOMER = str(uuid.uuid5(DEMO_NAMESPACE, "ООО «Ромашка»"))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def timers(deadlines: int, spread: float, processes: int) -> dict[str, float]:
    workdir = Path(tempfile.mkdtemp(prefix="caseflow-bench-sla-"))
    rules = workdir / "routing_rules"
    shutil.copytree(ROOT / "routing_rules", rules)
    (rules / "sla" / "00-bench.yaml").write_text(POLICY)
    url, pg_name = prepare_database("postgresql", workdir)
    await seed_database(url)
    engine = database.make_engine(url)
    sessions = database.make_sessionmaker(engine)
    server = await WorkflowEnvironment.start_local(
        dev_server_existing_path=dev_server_path(),
        dev_server_log_level="error",
        ui=False,
        data_converter=pydantic_data_converter,
    )
    client = server.client
    facts = CustomerFacts(
        id=CUSTOMER,
        name="bench",
        kind="organization",
        region="RU-MOW",
        segment="b2b_commercial",
        tier="standard",
    )
    actor = Actor(username="operator", role=Role.OPERATOR, lines=[Line.L1])
    # E-mail stays on (acknowledgements, assignment and breach notices): a local mail
    # catcher takes it, as `make run`'s does.
    smtp_port = free_port()
    catcher = subprocess.Popen(
        [sys.executable, "-m", "cli.mail_catcher", "--port", str(smtp_port),
         "--dir", str(workdir / "mail")],
        cwd=ROOT,
    )  # fmt: skip
    # Workers run in their own processes, as in production; this one only sends load.
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "cli", "worker"],
            cwd=ROOT,
            env={
                **os.environ,
                "CASEFLOW_DATABASE_URL": url,
                "CASEFLOW_TEMPORAL_ADDRESS": client.service_client.config.target_host,
                "CASEFLOW_TASK_QUEUE": "bench-sla",
                "CASEFLOW_ROUTING_RULES_DIR": str(rules),
                "CASEFLOW_LOG_LEVEL": "WARNING",
                "CASEFLOW_SMTP_PORT": str(smtp_port),
            },
        )
        for _ in range(processes)
    ]
    try:

        async def register(i: int) -> None:
            await register_direct(client, "bench-sla", facts, actor, f"deadline {i}")

        try:  # the worker is up and warm before the clock starts
            await asyncio.wait_for(register(-1), timeout=120)
        except TimeoutError:
            codes = [w.poll() for w in workers]
            raise SystemExit(
                f"the worker did not answer in 2 minutes (exit codes {codes})"
            ) from None
        began = time.monotonic()
        pending = []
        for i in range(deadlines):
            delay = began + spread * i / deadlines - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            pending.append(asyncio.create_task(register(i)))
        await asyncio.gather(*pending)
        registering = time.monotonic() - began
        async with sessions() as session:
            while True:
                breached = await session.scalar(
                    select(text("count(*)"))
                    .select_from(RequestEvent)
                    .where(RequestEvent.action == "sla-breach")
                )
                if breached is not None and breached >= deadlines + 1:
                    break
                await asyncio.sleep(0.5)
            rows = await session.execute(
                select(Request.created_at, RequestEvent.at)
                .join(RequestEvent, RequestEvent.request_id == Request.id)
                .where(RequestEvent.action == "sla-breach")
            )
            late = [(at - (created + TARGET)).total_seconds() for created, at in rows.all()]
    finally:
        for child in [*workers, catcher]:
            child.terminate()
        for child in [*workers, catcher]:
            child.wait(timeout=30)
        await server.shutdown()
        await engine.dispose()
        if pg_name:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    return {
        "registered in s": registering,
        "late p50 s": statistics.median(late),
        "late p99 s": percentile(late, 0.99),
        "late max s": max(late),
        "early breaches": float(sum(1 for x in late if x < 0)),
    }


FILL = """
INSERT INTO requests (id, workflow_id, seq_no, number, customer_id, channel, topic, priority,
    subject, description, intake_hash, state, line, queue, assignee, created_by, last_seq,
    created_at, updated_at, closed_at)
SELECT md5(i::text)::uuid::text, 'bench-' || i, 1000000 + i, 'BENCH-' || i, :customer, 'phone',
    'consultation', 'normal', 'bench', 'bench', 'h',
    CASE WHEN i % 20 = 0 THEN 'in_progress' ELSE 'closed' END, 'L1',
    (CAST(:queues AS text[]))[1 + i % 3], (CAST(:people AS text[]))[1 + i % 3], 'operator', 3,
    now() - make_interval(mins => i % 100000), now(),
    CASE WHEN i % 20 = 0 THEN NULL ELSE now() END
FROM generate_series(1, CAST(:rows AS int)) AS i;

INSERT INTO sla_clocks (request_id, segment, kind, line, queue, assignee, policy, calendar,
    target_s, elapsed_s, started_at, stopped_at, stop_reason, due_at, paused, pauses,
    warned_at, breached_at, request_open, as_of, as_of_seq)
SELECT md5(i::text)::uuid::text, 1, kind, 'L1',
    (CAST(:queues AS text[]))[1 + i % 3], (CAST(:people AS text[]))[1 + i % 3],
    'standard', 'moscow-office', 7200, 3600,
    now() - make_interval(mins => i % 100000),
    CASE WHEN kind = 'first_response' OR i % 20 <> 0 THEN now() END,
    CASE WHEN kind = 'first_response' THEN 'answered'
         WHEN i % 20 <> 0 THEN 'resolved' END,
    CASE WHEN kind = 'resolution' AND i % 20 = 0
         THEN now() + make_interval(mins => (i / 20) % 10080 - 60) END,
    false, '[]',
    NULL,
    CASE WHEN kind = 'resolution' AND i % 2000 = 0 THEN now() - interval '1 hour' END,
    i % 20 = 0, now(), 3
FROM generate_series(1, CAST(:rows AS int)) AS i,
    unnest(ARRAY['first_response', 'resolution']) AS kind;
"""


async def timed(call: Callable[[], Awaitable[Any]], repeat: int) -> float:
    await call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


async def queries(rows: int, repeat: int) -> dict[str, float]:
    url, pg_name = prepare_database("postgresql", Path(tempfile.mkdtemp()))
    await seed_database(url)
    engine = database.make_engine(url)
    sessions = database.make_sessionmaker(engine)
    people = ["operator", "operator-b", "agent2"]
    queues = ["hotline", "hotline", "l2-support"]
    try:
        started = time.perf_counter()
        async with engine.begin() as conn:
            for statement in FILL.split(";\n"):
                if statement.strip():
                    await conn.execute(
                        text(statement),
                        {"customer": CUSTOMER, "queues": queues, "people": people, "rows": rows},
                    )
        async with engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
            await conn.commit()
        filled = time.perf_counter() - started
        async with sessions() as session:
            figures = await time_queries(session, rows, repeat)
        # The same once autovacuum has passed over the load (it does within minutes of a
        # bulk insert): index-only scans then skip the heap.
        async with engine.connect() as conn:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(
                text("VACUUM ANALYZE")
            )
        async with sessions() as session:
            settled = await time_queries(session, rows, repeat)
        figures |= {f"{name}, vacuumed": value for name, value in settled.items()}
        figures["fill s"] = filled
    finally:
        await engine.dispose()
        if pg_name:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    return figures


async def time_queries(session: AsyncSession, rows: int, repeat: int) -> dict[str, float]:
    supervisor = (await session.scalars(select(User).where(User.username == "supervisor"))).one()
    now = datetime.now(UTC)
    some = [
        str(uuid.UUID(hex=hashlib.md5(str(i).encode()).hexdigest()))
        for i in range(1, rows, max(1, rows // 50))
    ]
    turn = iter(range(10**9))

    async def lookup() -> None:
        await session.get(Request, some[next(turn) % len(some)], populate_existing=True)

    def zone(query: Any) -> Any:
        return query.where(access.where(Kind.REQUEST, supervisor))

    async def breaches() -> None:
        found = await sla_reports.breaches(session, zone, Filters(), limit=51)
        assert found

    async def at_risk_window() -> None:
        found = await sla_reports.due_before(session, zone, Filters(), now + timedelta(hours=1))
        assert found

    async def forecast() -> None:
        await sla_reports.forecast(session, now)

    lookup_ms = await timed(lookup, repeat)
    figures = {"primary-key lookup ms": lookup_ms}
    for name, call in (
        ("breaches page", breaches),
        ("at-risk window page", at_risk_window),
        ("at-risk forecast", forecast),
    ):
        ms = await timed(call, repeat)
        figures[f"{name} ms"] = ms
        figures[f"{name} ratio"] = ms / lookup_ms
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deadlines", type=int, default=1000)
    parser.add_argument("--spread", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--parts", default="timers,queries")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if "timers" in parts:
        figures = asyncio.run(timers(args.deadlines, args.spread, args.workers))
        print(
            f"(a) {args.deadlines} breaches due over {args.spread:.0f} s, dev server, "
            f"{args.workers} worker process(es):"
        )
        for name, value in figures.items():
            print(f"    {name:<40}{value:>10.3f}")
        print("    goal: late p99 <= 1 s with one worker")
    if "queries" in parts:
        figures = asyncio.run(queries(args.rows, args.repeat))
        print(f"(b) {args.rows} requests (two clocks each) in PostgreSQL, median of {args.repeat}:")
        for name, value in figures.items():
            print(f"    {name:<40}{value:>10.3f}")
        print(
            "    goal: breaches and at-risk pages <= 3x the primary-key lookup; forecast <= 50 ms"
        )


if __name__ == "__main__":
    main()
