"""The audit log: what the edge records, who may read it, and a chain that names the first
edited, added or removed entry."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from caseflow import audit
from caseflow.audit.chain import link
from caseflow.platform import db as database
from caseflow.platform.settings import get_settings
from cli.main import app as cli
from tests.conftest import pg_url
from tests.helpers import ROMASHKA
from tests.test_api import assert_problem
from tests.test_bad_input import cancel

API = "/api/v1"


async def entries(http, headers, **query: str) -> list[dict]:
    """The audit entries matching `query`, once the writer has caught up."""
    app = http._transport.app
    await app.state.caseflow.audit.flush()
    answer = await http.get(f"{API}/admin/audit", params={"limit": 200, **query}, headers=headers)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


async def test_changes_reads_and_refusals_are_recorded(http, tokens) -> None:
    auditor_token = await http.post(
        f"{API}/auth/token", data={"username": "auditor", "password": "demo"}
    )
    auditor = {"Authorization": f"Bearer {auditor_token.json()['access_token']}"}
    operator = tokens["operator"]
    assert (await http.get(f"{API}/customers/{ROMASHKA}", headers=operator)).status_code == 200
    body = {
        "customer_id": ROMASHKA,
        "channel": "phone",
        "topic": "consultation",
        "subject": "Аудит",
        "description": "Проверка аудита",
    }
    made = await http.post(f"{API}/requests", json=body, headers=operator)
    assert made.status_code == 201
    rid = made.json()["id"]
    refused = await http.post(
        f"{API}/requests/{rid}/reassign",
        json={"assignee": "agent2", "reason": "x"},
        headers=operator,
    )
    assert refused.status_code == 403

    seen = await entries(http, auditor, user="operator")
    read = [e for e in seen if e["route"] == "/api/v1/customers/{customer_id}"]
    assert read and read[0]["record_kind"] == "customer" and read[0]["record_id"] == ROMASHKA
    assert read[0]["method"] == "GET" and read[0]["status"] == 200 and read[0]["address"]
    mine = await entries(http, auditor, record=rid)
    assert {(e["route"], e["detail"], e["status"]) for e in mine} >= {
        ("/api/v1/requests/{request_id}/reassign", None, 403),
    }
    created = [e for e in seen if e["route"] == "/api/v1/requests" and e["method"] == "POST"]
    assert created and created[0]["status"] == 201 and created[0]["role"] == "operator"
    # Lists of requests that show nobody's data are not recorded.
    assert not [e for e in seen if e["route"] == "/api/v1/requests" and e["method"] == "GET"]
    assert_problem(await http.get(f"{API}/admin/audit", headers=operator), 403, "forbidden")
    await cancel(http, tokens, rid)

    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    export = await http.get(
        f"{API}/admin/audit/export", params={"from": since, "to": until}, headers=auditor
    )
    assert export.status_code == 200
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert {e["id"] for e in mine} <= {e["id"] for e in lines}
    for entry in lines:  # the copy can be checked on its own
        content = {**entry, "at": datetime.fromisoformat(entry["at"])}
        assert link(entry["prev_hash"], content) == entry["hash"]


def calls(day: datetime, n: int) -> list[audit.Call]:
    return [
        audit.Call(
            at=day + timedelta(minutes=i),
            actor="operator",
            role="operator",
            method="GET",
            route="/api/v1/customers/{customer_id}",
            record_kind="customer",
            record_id=f"c-{i}",
            detail=None,
            address="10.0.0.1",
            status=200,
        )
        for i in range(n)
    ]


TAMPERING = {
    "edited": ("UPDATE audit_log SET record_id = 'someone-else' WHERE day = :d1 AND seq = 3", 3),
    "deleted": ("DELETE FROM audit_log WHERE day = :d1 AND seq = 2", 3),
    "inserted": (
        "INSERT INTO audit_log (day, seq, at, actor, role, method, route, record_kind, "
        "record_id, detail, address, status, prev_hash, hash) SELECT day, seq, at, 'ghost', "
        "role, method, route, record_kind, record_id, detail, address, status, prev_hash, hash "
        "FROM audit_log WHERE day = :d1 AND seq = 2",
        None,
    ),
    "deleted at the end": ("DELETE FROM audit_log WHERE day = :d1 AND seq = 4", None),
    "day_root": ("UPDATE audit_days SET prev_root = :zero WHERE day = :d2", None),
}


@pytest.mark.parametrize("tampering", list(TAMPERING))
async def test_verify_names_the_first_tampered_entry(make_pg_database, tampering) -> None:
    url = pg_url(make_pg_database())
    await asyncio.to_thread(database.upgrade, url)
    engine = database.make_engine(url)
    sessions = database.make_sessionmaker(engine)
    d1 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    try:
        async with database.transaction(sessions) as session:
            await audit.append(session, calls(d1, 4) + calls(d1 + timedelta(days=1), 3))
        async with sessions() as session:
            assert await audit.verify(session) == (7, None)
            ids: dict[int, int] = dict(
                (
                    await session.execute(
                        text("SELECT seq, id FROM audit_log WHERE day = :d"), {"d": "2026-11-30"}
                    )
                ).all()
            )
        statement, at_seq = TAMPERING[tampering]
        async with database.transaction(sessions) as session:
            await session.execute(
                text(statement), {"d1": "2026-11-30", "d2": "2026-12-01", "zero": "0" * 64}
            )
        async with sessions() as session:
            _, finding = await audit.verify(session)
        assert finding is not None
        kind = {"deleted at the end": "deleted"}.get(tampering, tampering)
        assert finding.kind == kind, finding
        if at_seq is not None:
            assert finding.entry_id == ids[at_seq], finding
        if tampering == "inserted":
            assert finding.entry_id not in ids.values()
    finally:
        await engine.dispose()


async def test_the_command_line_reports_a_break(make_pg_database, monkeypatch) -> None:
    url = pg_url(make_pg_database())
    await asyncio.to_thread(database.upgrade, url)
    engine = database.make_engine(url)
    try:
        async with database.transaction(database.make_sessionmaker(engine)) as session:
            await audit.append(session, calls(datetime(2026, 11, 30, tzinfo=UTC), 3))
    finally:
        await engine.dispose()
    monkeypatch.setenv("CASEFLOW_DATABASE_URL", url)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        fine = await asyncio.to_thread(runner.invoke, cli, ["audit", "verify"])
        assert fine.exit_code == 0 and "intact: 3 entries" in fine.output
        sync = url.replace("+psycopg", "")
        import psycopg

        with psycopg.connect(sync.replace("postgresql+psycopg", "postgresql")) as conn:
            conn.execute("UPDATE audit_log SET status = 200 WHERE seq = 2 AND status = 200")
            conn.execute("UPDATE audit_log SET actor = 'nobody' WHERE seq = 2")
        broken = await asyncio.to_thread(runner.invoke, cli, ["audit", "verify"])
        assert broken.exit_code == 1
        assert "edited: entry" in broken.output and "after 1 good entries" in broken.output
    finally:
        get_settings.cache_clear()
