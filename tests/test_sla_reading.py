"""SLA figures are read when asked: the request's page and the supervisor's at-risk list give
the same live numbers for a clock, business durations in hours, whole seconds."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from pydantic import TypeAdapter

from caseflow.requests.lifecycle import Line
from caseflow.sla.calendar import iso_hours
from caseflow.sla.terms import ClockStatus
from tests.test_bad_input import cancel
from tests.test_email import new_customer, register


def seconds(duration: str) -> float:
    return TypeAdapter(timedelta).validate_python(duration).total_seconds()


def test_business_time_is_told_in_hours_never_days() -> None:
    assert iso_hours(timedelta(hours=40)) == "PT40H"
    assert iso_hours(timedelta(hours=80, minutes=5, seconds=0.4)) == "PT80H5M"
    assert iso_hours(timedelta(0)) == "PT0S"
    now = datetime.now(UTC)
    status = ClockStatus(
        kind="resolution", line=Line.L3, policy="standard", calendar="moscow-office",
        target=timedelta(hours=40), elapsed=timedelta(seconds=0.117466),
        remaining=timedelta(hours=40) - timedelta(seconds=0.117466), paused=False,
        stopped=False, due=now, warned=False, breached=False, started_at=now, stopped_at=None,
    )  # fmt: skip
    shown = status.model_dump(mode="json")
    assert (shown["target"], shown["elapsed"], shown["remaining"]) == ("PT40H", "PT0S", "PT40H")


async def test_the_request_and_at_risk_read_the_clock_now(http, tokens) -> None:
    customer, _ = await new_customer(http, tokens)
    created = await register(
        http, tokens, customer, topic="card_block", fields={"card_last4": "4321"}
    )
    await asyncio.sleep(3)  # nothing happens to the request meanwhile; its clocks run on
    asked_at = datetime.now(UTC)
    page = await http.get(f"/api/v1/requests/{created['id']}", headers=tokens["supervisor"])
    assert page.status_code == 200, page.text
    sla = page.json()["sla"]
    assert sla["policy"] == "card-block" and sla["calendar"] == "round-the-clock"
    first = next(c for c in sla["clocks"] if c["kind"] == "first_response" and not c["stopped"])
    started = datetime.fromisoformat(first["started_at"])
    assert seconds(first["elapsed"]) >= (asked_at - started).total_seconds() - 1
    assert seconds(first["elapsed"]) + seconds(first["remaining"]) == seconds(first["target"])
    assert all("D" not in c[k] for c in sla["clocks"] for k in ("target", "elapsed"))

    risky = await http.get(
        "/api/v1/supervisor/sla/at-risk",
        params={"within": "PT1H", "queue": first["queue"], "limit": 200},
        headers=tokens["supervisor"],
    )
    ours = next(
        a
        for a in risky.json()["items"]
        if a["request_id"] == created["id"] and a["clock"] == "first_response"
    )
    assert abs(seconds(ours["elapsed"]) - seconds(first["elapsed"])) <= 1
    assert abs(seconds(ours["remaining"]) - seconds(first["remaining"])) <= 1
    assert ours["due"] == first["due"]
    await cancel(http, tokens, created["id"])
