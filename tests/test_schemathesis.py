"""Schemathesis against the live API (`--checks all`), as an operator and as an admin:
no input makes it answer 5xx, and every answer matches the OpenAPI document.

The API and a worker run as child processes on a database of their own (seeded with the
demo), so nothing the fuzzer creates or changes reaches the other tests.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from caseflow.platform import db as database
from cli.demo import seed
from cli.devstack import wait_for_port
from tests.conftest import free_port, pg_url

ROOT = Path(__file__).resolve().parent.parent
# Each role's run is bounded (schemathesis' own time budget), so `make test` stays minutes.
BUDGET_S = int(os.environ.get("CASEFLOW_SCHEMATHESIS_SECONDS", "90"))


@pytest_asyncio.fixture(scope="module")
async def live_api(make_pg_database, dev_env) -> AsyncIterator[str]:
    url = pg_url(make_pg_database())
    await asyncio.to_thread(database.upgrade, url)
    engine = database.make_engine(url)
    async with database.transaction(database.make_sessionmaker(engine)) as session:
        await seed(session)
    await engine.dispose()
    port = free_port()
    env = {
        **os.environ,
        "CASEFLOW_DATABASE_URL": url,
        "CASEFLOW_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "CASEFLOW_TASK_QUEUE": f"fuzz-{uuid.uuid4().hex}",
        "CASEFLOW_NOTIFICATIONS": "false",
        "CASEFLOW_LOG_LEVEL": "ERROR",
        "CASEFLOW_LOGIN_FAILURES_PER_USER": "100000/minute",
        "CASEFLOW_LOGIN_FAILURES_PER_ADDRESS": "100000/minute",
        "CASEFLOW_LOGIN_LOCKOUT_AFTER": "100000",
    }
    cli = [sys.executable, "-m", "cli"]
    children = [
        await asyncio.create_subprocess_exec(*cli, "worker", env=env, cwd=ROOT),
        await asyncio.create_subprocess_exec(*cli, "api", "--port", str(port), env=env, cwd=ROOT),
    ]
    try:
        await asyncio.to_thread(wait_for_port, port)
        yield f"http://127.0.0.1:{port}"
    finally:
        for child in children:
            child.terminate()
        for child in children:
            await asyncio.wait_for(child.wait(), 30)


def try_it_block(base: str) -> str:
    """The README's "Try it" shell block, pointed at `base` instead of port 8000."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Try it") :]
    block = section[section.index("```sh\n") + 6 :]
    return block[: block.index("```")].replace("http://127.0.0.1:8000", base)


async def test_the_readme_try_it_runs_twice_in_a_row(live_api, tmp_path) -> None:
    """Before the fuzzer below touches this stack: a newcomer's first steps, twice."""
    script = tmp_path / "try-it.sh"
    script.write_text(try_it_block(live_api))
    numbers = []
    for _ in range(2):
        run = await asyncio.create_subprocess_exec(
            "bash", str(script), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await asyncio.wait_for(run.communicate(), 120)
        assert run.returncode == 0 and err == b"", err.decode()
        text = out.decode()
        assert '"in_progress"' in text and '"line": "L2"' in text, text[-2000:]
        assert text.count('"action":') >= 4  # register, assign, start, escalate
        numbers.append(text.split('"number": "', 1)[1].split('"', 1)[0])
    assert numbers[0] != numbers[1]  # each run a request of its own, the customer reused


async def token(base: str, username: str) -> str:
    async with httpx.AsyncClient(base_url=base) as client:
        answer = await client.post(
            "/api/v1/auth/token", data={"username": username, "password": "demo"}
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])


@pytest.mark.timeout(BUDGET_S * 3 + 120)
@pytest.mark.parametrize("role", ["operator", "admin"])
async def test_no_input_breaks_the_api(live_api, role, tmp_path) -> None:
    bearer = await token(live_api, role)
    report = tmp_path / "report.json"
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(ROOT / "tests" / "schemathesis.toml"),
        "run",
        f"{live_api}/openapi.json",
        "--checks",
        "all",
        "--header",
        f"Authorization: Bearer {bearer}",
        "--max-examples",
        "25",
        "--max-time",
        str(BUDGET_S),
        # One thread: CPython 3.11 can raise "SystemError: AST constructor recursion depth
        # mismatch" when two threads build ASTs at once (python/cpython#106905), failing the
        # run on no fault of the API. The run is bound by --max-time either way: one worker
        # generated as many cases (9,217 vs 9,163).
        "--workers",
        "1",
        "--seed",
        "14",
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,
    )
    out, _ = await process.communicate()
    text = out.decode(errors="replace")
    summary = [line for line in text.splitlines() if "generated" in line or " passed" in line]
    print(f"schemathesis as {role}: {'; '.join(s.strip() for s in summary[-2:])}")
    # On failure, the report names each failing case and how to reproduce it.
    assert process.returncode == 0, text[text.find("FAILURES") :][:20000] or text[-6000:]


async def test_a_request_the_server_cannot_parse_is_a_problem_too(live_api) -> None:
    """A query string of 210 KB never reaches the app: the server's answer is problem+json."""
    port = int(live_api.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /api/v1/customers?q={'a' * 210_000} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert b"content-type: application/problem+json" in head.lower()
    problem = json.loads(body)
    assert problem["status"] == 400 and problem["type"] == "bad_request" and problem["detail"]
