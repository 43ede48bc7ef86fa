"""Console benchmark: each page rendered on the server against the JSON API answers that hold
the same data, side by side in one run, with `--rows` requests in PostgreSQL.

    .venv/bin/python bench/console.py [--rows 100000] [--repeat 60]

`--rows` requests (5 % open, each with two SLA clocks and three history events) and a deal
with 6 tasks and 30 events are written into a fresh PostgreSQL database with the demo people
and vacuumed as autovacuum would; a Temporal dev server answers the workflow queries (the
bench records have no workflow, so both the page and the API read the read model, as they do
for records past retention). Both go through the same app in process (httpx's ASGI
transport): the console signed in by its login form, the API by a bearer token. For each
page: p50 and p95 in ms, and the ratio of the page's p95 to the p95 of the API calls it
stands for (summed). Goals: every page ≤ 150 ms p95 and ≤ 2× its API;
a case page ≤ 60 KB of HTML and ≤ 100 KB of script in all.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import text
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.app import create_app
from bench.intake import PG_ADMIN, prepare_database, seed_database
from bench.sla import CUSTOMER, FILL
from caseflow.platform import db as database
from caseflow.platform.settings import Settings
from caseflow.platform.temporal import dev_server_path
from console.web import STATIC

EVENTS = """
INSERT INTO request_events (request_id, workflow_id, seq, at, actor, actor_role, action,
    from_state, to_state, line, queue, assignee, reason, data)
SELECT md5(i::text)::uuid::text, 'bench-' || i, step,
    now() - make_interval(mins => i % 100000) + make_interval(secs => step),
    'operator', 'operator', (ARRAY['register', 'assign', 'start'])[step],
    (ARRAY[NULL, 'registered', 'assigned'])[step],
    (ARRAY['registered', 'assigned', 'in_progress'])[step], 'L1', 'hotline', 'operator',
    NULL, '{}'
FROM generate_series(1, CAST(:rows AS int)) AS i, generate_series(1, 3) AS step
"""
DEAL = str(uuid.uuid5(uuid.NAMESPACE_URL, "caseflow-bench-deal"))
DEALS = """
INSERT INTO deals (id, workflow_id, pipeline, title, owner, customer_id, amount, currency,
    stage, status, fields, last_seq, created_at, updated_at)
VALUES (:deal, 'bench-deal', 'b2b', 'Корпоративный тариф', 'manager', :customer, 1200000,
    'RUB', 'proposal', 'open', '{"budget": 1500000, "decision_maker": "Иванов", "volume": 40}',
    30, now() - interval '20 days', now());
INSERT INTO deal_tasks (deal_id, task_id, stage, title, type, assignee, due_at, blocking,
    status, result, reason, closed_by, reminded_at, overdue_at)
SELECT :deal, t, 'proposal', 'Задача ' || t, 'call', 'manager',
    now() + make_interval(days => t - 3), t % 2 = 0, CASE WHEN t < 3 THEN 'done' ELSE 'open' END,
    NULL, NULL, NULL, NULL, CASE WHEN t = 3 THEN now() ELSE NULL END
FROM generate_series(1, 6) AS t;
INSERT INTO deal_events (deal_id, seq, at, actor, action, stage, reason, data)
SELECT :deal, n, now() - make_interval(hours => 30 - n), 'manager', 'update', 'proposal', NULL,
    '{"fields": {"volume": 40}}'
FROM generate_series(1, 30) AS n
"""
TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')
Call = Callable[[], Awaitable[httpx.Response]]


def request_id(i: int) -> str:
    return str(uuid.UUID(hex=hashlib.md5(str(i).encode()).hexdigest()))


async def fill(url: str, rows: int) -> float:
    engine = database.make_engine(url)
    started = time.perf_counter()
    params = {
        "customer": CUSTOMER,
        "queues": ["hotline", "hotline", "l2-support"],
        "people": ["operator", "operator-b", "agent2"],
        "rows": rows,
        "deal": DEAL,
    }
    async with engine.begin() as conn:
        for statement in [*FILL.split(";\n"), EVENTS, *DEALS.split(";\n")]:
            if statement.strip():
                await conn.execute(text(statement), params)
    await engine.dispose()
    # The steady state autovacuum keeps a live table in: statistics and the visibility map
    # (without it no index-only scan, as right after a bulk load).
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


async def samples(call: Call, repeat: int) -> list[float]:
    answer = await call()  # warm: caches, prepared statements
    assert answer.status_code == 200, (answer.status_code, answer.text[:300])
    taken = []
    for _ in range(repeat):
        started = time.perf_counter()
        answer = await call()
        taken.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.status_code
    return taken


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


async def signed_in(client: httpx.AsyncClient, username: str) -> None:
    form = await client.get("/login")
    found = TOKEN.search(form.text)
    assert found, form.text[:300]
    answer = await client.post(
        "/login", data={"username": username, "password": "demo", "csrftoken": found.group(1)}
    )
    assert answer.status_code == 303, answer.text[:300]


async def run(rows: int, repeat: int) -> None:
    url, pg_name = prepare_database("postgresql", Path(tempfile.mkdtemp()))
    server = await WorkflowEnvironment.start_local(
        dev_server_existing_path=dev_server_path(),
        dev_server_log_level="error",
        ui=False,
        data_converter=pydantic_data_converter,
    )
    try:
        await seed_database(url)
        filled = await fill(url, rows)
        settings = Settings(database_url=url, audit=False, notifications=False)
        app = create_app(settings, temporal=server.client)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            base = "http://caseflow"
            async with (
                httpx.AsyncClient(transport=transport, base_url=base) as page,
                httpx.AsyncClient(transport=transport, base_url=base) as api,
            ):
                await signed_in(page, "supervisor")
                token = await api.post(
                    "/api/v1/auth/token", data={"username": "supervisor", "password": "demo"}
                )
                api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
                await compare(page, api, rows, repeat, filled)
    finally:
        await server.shutdown()
        if pg_name:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


async def compare(
    page: httpx.AsyncClient, api: httpx.AsyncClient, rows: int, repeat: int, filled: float
) -> None:
    case = request_id(20)  # an open one (every 20th is open)
    pairs: list[tuple[str, Call, list[Call]]] = [
        (
            "queue (all open, 50 rows + counts)",
            lambda: page.get("/queue?view=open"),
            [
                lambda: api.get("/api/v1/requests/views"),
                lambda: api.get("/api/v1/requests?view=open&limit=50"),
            ],
        ),
        (
            "case page",
            lambda: page.get(f"/cases/{case}"),
            [
                lambda: api.get(f"/api/v1/requests/{case}"),
                lambda: api.get(f"/api/v1/requests/{case}/events"),
            ],
        ),
        (
            "supervisor's floor",
            lambda: page.get("/floor"),
            [
                lambda: api.get("/api/v1/supervisor/workload?limit=100"),
                lambda: api.get("/api/v1/supervisor/sla/breaches"),
                lambda: api.get("/api/v1/supervisor/sla/at-risk"),
            ],
        ),
        (
            "intake with the customer's card",
            lambda: page.get(f"/intake?customer_id={CUSTOMER}"),
            [
                lambda: api.get(f"/api/v1/customers/{CUSTOMER}"),
                lambda: api.get(f"/api/v1/requests?customer_id={CUSTOMER}&limit=20"),
                lambda: api.get(f"/api/v1/customers/{CUSTOMER}/representatives"),
                lambda: api.get(f"/api/v1/customers/{CUSTOMER}/offers"),
            ],
        ),
        (
            "deal page (6 tasks, 30 events)",
            lambda: page.get(f"/deals/{DEAL}"),
            [
                lambda: api.get(f"/api/v1/deals/{DEAL}"),
                lambda: api.get(f"/api/v1/deals/{DEAL}/events?limit=200"),
                lambda: api.get(f"/api/v1/customers/{CUSTOMER}"),
            ],
        ),
    ]
    print(f"console vs JSON API, {rows:,} requests in PostgreSQL (filled in {filled:.1f} s),")
    print(f"{repeat} calls each, in process; ms")
    print(f"    {'page':<36}{'p50':>8}{'p95':>8}{'API p50':>9}{'API p95':>9}{'ratio':>7}")
    for name, render, calls in pairs:
        shown = await samples(render, repeat)
        parts = [await samples(call, repeat) for call in calls]
        summed = [sum(values) for values in zip(*parts, strict=True)]
        ratio = p95(shown) / p95(summed)
        print(
            f"    {name:<36}{statistics.median(shown):>8.1f}{p95(shown):>8.1f}"
            f"{statistics.median(summed):>9.1f}{p95(summed):>9.1f}{ratio:>7.2f}"
        )
    html = (await page.get(f"/cases/{case}")).content
    scripts = sum(p.stat().st_size for p in [STATIC / "console.js", *STATIC.glob("vendor/*.js")])
    print(f"    case page HTML {len(html) / 1024:.1f} KB (goal ≤ 60), "
          f"script in all {scripts / 1024:.1f} KB (goal ≤ 100)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=60)
    args = parser.parse_args()
    asyncio.run(run(args.rows, args.repeat))


if __name__ == "__main__":
    main()
