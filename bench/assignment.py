"""Assignment benchmark: 1,000 rules × 500 agents, against intake latency in the same run.

Prints the rule-set load time, the decision time in microseconds (p50/p99) both in memory
(route + pick among 500 candidates) and on PostgreSQL (route + the locked choice among a
500-person team), and the DB-backed decision as a fraction of intake p50 measured now:

    .venv/bin/python bench/assignment.py [--rules 1000] [--agents 500] [--decisions 2000]

Goal (issue 4): decision ≤ 1 % of intake p50.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import intake
from caseflow.payloads import Actor, CustomerFacts, RequestStart
from caseflow.people.store import upsert_team, upsert_user
from caseflow.platform import db as database
from caseflow.requests.lifecycle import Line, Role
from caseflow.routing import assignment
from caseflow.routing import rules as routing
from cli.demo import DEMO_NAMESPACE

REGIONS = [f"RU-R{i:02d}" for i in range(80)]
TOPICS = [f"topic_{i}" for i in range(60)]


def write_rules(directory: Path, count: int) -> None:
    """`count` rules of mixed shapes; only the last one matches the benchmark's request."""
    lines = ["defaults: {L1: bench-team, L2: bench-team, L3: bench-team}", "rules:"]
    for i in range(count - 1):
        shape = i % 4
        if shape == 0:
            when = f"{{region: {{in: [{REGIONS[i % 80]}, {REGIONS[(i + 1) % 80]}]}}}}"
        elif shape == 1:
            when = f"{{topic: {TOPICS[i % 60]}, tier: vip}}"
        elif shape == 2:
            when = f"{{planned_volume: {{range: {{min: {1000 + i}, max: {2000 + i}}}}}}}"
        else:
            when = (
                f"{{any: [{{segment: seg_{i}}}, {{all: [{{channel: chat}}, "
                f"{{not: {{status: client}}}}]}}]}}"
            )
        lines.append(
            f"  - name: rule-{i}\n    when: {when}\n    target: {{line: L1, queue: "
            f"bench-team, skill: s{i % 7}, level: {1 + i % 5}}}"
        )
    lines.append("  - name: catch-all\n    target: {line: L1, queue: bench-team}")
    (directory / "10-bench.yaml").write_text("\n".join(lines) + "\n")


def request() -> RequestStart:
    facts = CustomerFacts(
        id=str(uuid.uuid5(DEMO_NAMESPACE, "ООО «Ромашка»")),
        name="bench",
        kind="organization",
        region="RU-MOW",
        segment="b2b_commercial",
        tier="standard",
        planned_volume=10,
    )
    return RequestStart(
        request_id=str(uuid.uuid4()),
        body_hash="b",
        customer=facts,
        channel="phone",
        topic="consultation",
        subject="s",
        description="d",
        created_by=Actor(username="operator", role=Role.OPERATOR),
    )


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


async def on_postgres(book: routing.RuleBook, agents: int, decisions: int) -> list[float]:
    url, name = intake.prepare_database("postgresql", Path(tempfile.mkdtemp()))
    await intake.seed_database(url)
    engine = database.make_engine(url)
    sessions = database.make_sessionmaker(engine)
    try:
        async with database.transaction(sessions) as session:
            await upsert_team(session, code="bench-team", name="bench", line=Line.L1)
            for i in range(agents):
                await upsert_user(
                    session,
                    username=f"agent-{i:03d}",
                    role=Role.AGENT,
                    team="bench-team",
                    capacity=50,
                )
        start, need = request(), assignment.Need(at=datetime.now(UTC))
        timings = []
        for _ in range(decisions):
            began = time.perf_counter()
            async with database.transaction(sessions) as session:
                route = book.route(start)
                assert route.queue is not None
                await assignment.choose(session, route.queue, need)
            timings.append(time.perf_counter() - began)
        return timings
    finally:
        await engine.dispose()
        with psycopg.connect(intake.PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--decisions", type=int, default=2000)
    parser.add_argument("--intakes", type=int, default=96)
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="caseflow-rules-"))
    write_rules(directory, args.rules)
    began = time.perf_counter()
    book = routing.load(directory)
    load_ms = (time.perf_counter() - began) * 1000

    start, need = request(), assignment.Need(at=datetime.now(UTC))
    people = [
        assignment.Candidate(f"agent-{i:03d}", i % 7, 10, "available", False, None)
        for i in range(args.agents)
    ]
    in_memory = []
    for _ in range(args.decisions):
        began = time.perf_counter()
        assignment.pick(people, need, book.route(start).rule)
        in_memory.append(time.perf_counter() - began)
    db_backed = asyncio.run(on_postgres(book, args.agents, args.decisions // 4))

    intake_args = argparse.Namespace(
        paths={"http"}, requests=args.intakes, rounds=1, concurrency=8, db="postgresql"
    )
    intake_p50_ms = asyncio.run(intake.run(intake_args))["http"]["p50"]

    mem50, mem99 = percentiles(in_memory)
    db50, db99 = percentiles(db_backed)
    print(f"assignment benchmark: {args.rules} rules, {args.agents} agents")
    print(f"rule set load:                     {load_ms:10.1f} ms")
    print(
        f"decision in memory (route + pick): p50 {mem50 * 1e6:8.0f} µs   p99 {mem99 * 1e6:8.0f} µs"
    )
    print(f"decision on PostgreSQL (+ choose): p50 {db50 * 1e6:8.0f} µs   p99 {db99 * 1e6:8.0f} µs")
    print(f"intake p50 (POST /requests):       {intake_p50_ms:10.1f} ms")
    print(f"in-memory decision / intake p50:   {mem50 * 1000 / intake_p50_ms:10.2%} (goal <= 1 %)")
    print(f"PostgreSQL decision / intake p50:  {db50 * 1000 / intake_p50_ms:10.2%}")


if __name__ == "__main__":
    main()
