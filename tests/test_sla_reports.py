"""SLA statistics give the same figures on PostgreSQL (in SQL) and SQLite (`make run`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from caseflow.models import Customer, Request, SlaClock, Team
from caseflow.platform import db as database
from caseflow.sla import reports as sla_reports
from tests.conftest import pg_url

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["postgresql", "sqlite"])
def url(request, make_pg_database, tmp_path: Path) -> str:
    if request.param == "postgresql":
        target = pg_url(make_pg_database())
        database.upgrade(target)
        return target
    database.upgrade(f"sqlite:///{tmp_path / 'stats.db'}")
    return f"sqlite+aiosqlite:///{tmp_path / 'stats.db'}"


def everything(query: Any) -> Any:
    return query


def request_row(i: int, queue: str, assignee: str, state: str) -> Request:
    return Request(
        id=f"r{i}",
        workflow_id=f"w{i}",
        seq_no=i,
        number=f"REQ-{i}",
        customer_id="c1",
        channel="phone",
        topic="consultation",
        priority="normal",
        subject="s",
        description="d",
        intake_hash="h",
        state=state,
        line="L1",
        queue=queue,
        assignee=assignee,
        created_by="operator",
    )


def clock_row(i: int, kind: str, elapsed_h: float, reason: str, breached: bool) -> SlaClock:
    return SlaClock(
        request_id=f"r{i}",
        segment=1,
        kind=kind,
        line="L1",
        queue="hotline",
        assignee="operator",
        policy="standard",
        calendar="moscow-office",
        target_s=4 * 3600,
        elapsed_s=int(elapsed_h * 3600),
        started_at=NOW - timedelta(hours=10),
        stopped_at=NOW - timedelta(hours=1),
        stop_reason=reason,
        due_at=None,
        paused=False,
        pauses=[],
        breached_at=NOW - timedelta(hours=2) if breached else None,
        request_open=False,
        as_of=NOW,
        as_of_seq=5,
    )


async def test_stats_and_forecast_agree_on_both_databases(url: str) -> None:
    engine = database.make_engine(url)
    sessions = database.make_sessionmaker(engine)
    try:
        async with database.transaction(sessions) as session:
            session.add(
                Customer(
                    id="c1",
                    kind="person",
                    name="Тест",
                    region="RU-MOW",
                    segment="b2c",
                    tier="standard",
                    locale="ru",
                )
            )
            await session.flush()
            session.add(Team(code="hotline", name="Hotline", line="L1"))
            spent = [1.0, 2.0, 3.0, 10.0]
            for i, hours in enumerate(spent):
                session.add(request_row(i, "hotline", "operator", "resolved"))
                session.add(clock_row(i, "resolution", hours, "resolved", hours > 4))
                session.add(clock_row(i, "first_response", hours / 4, "answered", False))
            session.add(request_row(10, "hotline", "operator", "in_progress"))
            session.add(request_row(11, "hotline", "operator", "assigned"))
        async with sessions() as session:
            rows = await sla_reports.stats(
                session, everything, "queue", NOW - timedelta(days=1), NOW
            )
            forecast = await sla_reports.forecast(session, NOW)
    finally:
        await engine.dispose()
    (hotline,) = rows
    assert (hotline.group, hotline.clocks, hotline.met, hotline.breached) == ("hotline", 8, 7, 1)
    assert hotline.met_pct == 87.5
    assert hotline.median_resolution_s == 2.5 * 3600  # between 2 h and 3 h
    assert hotline.median_first_response_s == 2.5 * 3600 / 4
    assert forecast.depth == {"operator": 2}
    assert forecast.handling == {"hotline": timedelta(hours=2.5)}
