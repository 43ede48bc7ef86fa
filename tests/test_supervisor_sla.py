"""Supervisors' SLA views over the ledger: breaches, at risk (due soon or predicted), stats.

Requests are registered through the API; their ledgers are then written as the workflow
would write them hours later (the projection itself is tested in test_sla_workflow).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest_asyncio
from pydantic import TypeAdapter

from caseflow.people.schedule import today_starts
from caseflow.people.store import upsert_team
from caseflow.platform.db import transaction
from caseflow.requests.lifecycle import Line
from caseflow.sla import ledger as sla_ledger
from caseflow.sla.terms import ClockKind, ClockStatus, SlaLedger
from tests.test_assignment import make_team
from tests.test_bad_input import cancel
from tests.test_supervisor import new_request, supervisor_of

QUEUE = "sla-report-queue"  # a queue of these tests alone, for stats and forecasts
HOUR = timedelta(hours=1)


def clock(
    kind: ClockKind,
    *,
    started: datetime,
    target: timedelta,
    elapsed: timedelta,
    due: datetime | None = None,
    queue: str | None = QUEUE,
    assignee: str | None = None,
    stopped: datetime | None = None,
    stop_reason: str | None = None,
    breached_at: datetime | None = None,
    calendar: str = "round-the-clock",
) -> ClockStatus:
    return ClockStatus(
        kind=kind,
        line=Line.L1,
        policy="standard",
        calendar=calendar,
        target=target,
        elapsed=elapsed,
        remaining=max(target - elapsed, timedelta(0)),
        paused=False,
        stopped=stopped is not None,
        due=due,
        warned=breached_at is not None,
        breached=breached_at is not None,
        started_at=started,
        stopped_at=stopped,
        stop_reason=stop_reason,
        breached_at=breached_at,
        queue=queue,
        assignee=assignee,
    )


async def write(sessions, request: dict, clocks: list[ClockStatus], *, open: bool = True) -> None:
    ledger = SlaLedger(
        workflow_id=f"request-{request['id']}",
        request_id=request["id"],
        seq=10_000,  # newer than anything the live workflow will record in this test run
        at=datetime.now(UTC),
        open=open,
        clocks=clocks,
    )
    async with transaction(sessions) as session:
        assert await sla_ledger.record(session, ledger)


@pytest_asyncio.fixture(scope="module")
async def cases(http, tokens, sessions) -> AsyncIterator[dict[str, dict]]:
    """A: breached 30 min ago. B: due in 20 min. C: due in 90 min, but its queue takes 4 h
    a request. D: due in 30 days. E, F: resolved in the queue (2 h, met; 6 h, breached).
    G: answered 50 min late, still open."""
    now = datetime.now(UTC)
    async with transaction(sessions) as session:
        await upsert_team(session, code=QUEUE, name="SLA reports", line=Line.L1)
    made = {name: await new_request(http, tokens["operator"]) for name in "ABCDEFG"}
    workload = await http.get("/api/v1/supervisor/workload", headers=tokens["supervisor"])
    made["before"] = {r["username"]: r["breaches_today"] for r in workload.json()["items"]}

    def running(case: str, due: datetime) -> ClockStatus:
        # An hour used on the 24x7 calendar, and a target that falls due at `due`.
        return clock(
            "resolution",
            started=now - HOUR,
            target=due - now + HOUR,
            elapsed=HOUR,
            due=due,
            assignee=made[case]["assignee"],
        )

    a = made["A"]
    await write(
        sessions,
        a,
        [
            clock(
                "first_response",
                started=now - 2 * HOUR - timedelta(minutes=40),
                target=2 * HOUR,
                elapsed=2 * HOUR + timedelta(minutes=40),
                due=now - timedelta(minutes=40),
                breached_at=now - timedelta(minutes=30),
                assignee=a["assignee"],
            )
        ],
    )
    await write(
        sessions,
        made["G"],
        [
            clock(
                "first_response",
                started=now - 4 * HOUR,
                target=2 * HOUR,
                elapsed=2 * HOUR + timedelta(minutes=50),
                breached_at=now - 2 * HOUR,
                stopped=now - HOUR - timedelta(minutes=10),
                stop_reason="answered",
                assignee=made["G"]["assignee"],
                queue="sla-late-queue",  # not in the stats of QUEUE
            )
        ],
    )
    await write(sessions, made["B"], [running("B", now + timedelta(minutes=20))])
    await write(sessions, made["C"], [running("C", now + timedelta(minutes=90))])
    await write(sessions, made["D"], [running("D", now + timedelta(days=30))])
    for case, spent, breached in (("E", 2 * HOUR, None), ("F", 6 * HOUR, now - 3 * HOUR)):
        await write(
            sessions,
            made[case],
            [
                clock(
                    "resolution",
                    started=now - 7 * HOUR,
                    target=4 * HOUR,
                    elapsed=spent,
                    stopped=now - HOUR,
                    stop_reason="resolved",
                    breached_at=breached,
                )
            ],
            open=False,
        )
    yield made
    for name in "ABCDG":  # open requests hold their assignee's capacity
        await cancel(http, tokens, made[name]["id"])


async def test_breaches_list_the_zone_most_overdue_first(http, tokens, sessions, cases) -> None:
    answer = await http.get("/api/v1/supervisor/sla/breaches", headers=tokens["supervisor"])
    assert answer.status_code == 200, answer.text
    found = {item["request_id"]: item for item in answer.json()["items"]}
    a = found[cases["A"]["id"]]
    assert a["clock"] == "first_response" and a["number"] == cases["A"]["number"]
    assert timedelta(minutes=39) < timedelta(seconds=_seconds(a["overdue_by"])) < HOUR
    assert cases["B"]["id"] not in found and cases["F"]["id"] not in found  # F is closed
    # Answered late: when it fell due, and by how much it was late, stay on the list.
    g = found[cases["G"]["id"]]
    assert g["due"] is not None and g["due"] == g["breached_at"]
    assert g["overdue_by"] == "PT50M" and g["elapsed"] == "PT2H50M" and g["remaining"] is None
    on_l2 = await http.get("/api/v1/supervisor/sla/breaches?line=L2", headers=tokens["supervisor"])
    assert cases["A"]["id"] not in {i["request_id"] for i in on_l2.json()["items"]}

    # One per page, following the cursor, reaches the same breaches.
    seen, cursor = [], None
    while True:
        page = await http.get(
            "/api/v1/supervisor/sla/breaches",
            params={"limit": 1, **({"cursor": cursor} if cursor else {})},
            headers=tokens["supervisor"],
        )
        seen += [i["request_id"] for i in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == [i["request_id"] for i in answer.json()["items"]]

    headers = await supervisor_of(http, sessions, "supervisor-l3", ["l3-experts"])
    elsewhere = await http.get("/api/v1/supervisor/sla/breaches", headers=headers)
    assert cases["A"]["id"] not in {i["request_id"] for i in elsewhere.json()["items"]}
    operator = await http.get("/api/v1/supervisor/sla/breaches", headers=tokens["operator"])
    assert operator.status_code == 403


async def test_requests_filter_on_breach(http, tokens, cases) -> None:
    breached = await http.get(
        "/api/v1/requests?breached=true&limit=200", headers=tokens["supervisor"]
    )
    ids = {item["id"] for item in breached.json()["items"]}
    assert cases["A"]["id"] in ids and cases["B"]["id"] not in ids
    clean = await http.get(
        "/api/v1/requests?breached=false&limit=200", headers=tokens["supervisor"]
    )
    ids = {item["id"] for item in clean.json()["items"]}
    assert cases["B"]["id"] in ids and cases["A"]["id"] not in ids


async def test_workload_counts_todays_breaches(http, tokens, cases) -> None:
    """Today is the supervisor's (their schedule's zone, else Moscow): A breached 30 min ago
    and G 2 h ago count when that was after their midnight, at any hour the test runs."""
    answer = await http.get("/api/v1/supervisor/workload", headers=tokens["supervisor"])
    rows = {r["username"]: r["breaches_today"] for r in answer.json()["items"]}
    assignee = cases["A"]["assignee"]
    now = datetime.now(UTC)
    midnight = today_starts(None, "Europe/Moscow", now)
    breached = {"A": now - timedelta(minutes=30), "G": now - 2 * HOUR}
    late = sum(cases[n]["assignee"] == assignee and breached[n] >= midnight for n in "AG")
    assert rows[assignee] == cases["before"][assignee] + late


def test_today_is_the_supervisors_day_not_utcs() -> None:
    """At 01:40 UTC it is 04:40 in Moscow: today began at 21:00 UTC the day before (the
    workload counted from 00:00 UTC and missed a breach at 23:40 UTC)."""
    at = datetime(2026, 12, 2, 1, 40, tzinfo=UTC)
    assert today_starts(None, "Europe/Moscow", at) == datetime(2026, 12, 1, 21, 0, tzinfo=UTC)
    vladivostok = {"timezone": "Asia/Vladivostok"}  # UTC+10: 11:40 there
    assert today_starts(vladivostok, "Europe/Moscow", at) == datetime(
        2026, 12, 1, 14, 0, tzinfo=UTC
    )


async def test_at_risk_has_due_soon_and_predicted_late(http, tokens, cases) -> None:
    answer = await http.get(
        f"/api/v1/supervisor/sla/at-risk?within=PT1H&queue={QUEUE}&limit=200",
        headers=tokens["supervisor"],
    )
    assert answer.status_code == 200, answer.text
    found = {item["request_id"]: item for item in answer.json()["items"]}
    b, c = found[cases["B"]["id"]], found[cases["C"]["id"]]
    assert b["predicted"] is False and b["expected_completion"] is None
    # C is due in 90 min; its assignee's open requests × the queue's 4 h median say later.
    assert c["predicted"] is True
    expected = datetime.fromisoformat(c["expected_completion"])
    assert expected > datetime.fromisoformat(c["due"]) + 2 * HOUR
    assert cases["D"]["id"] not in found and cases["A"]["id"] not in found
    dues = [item["due"] for item in answer.json()["items"]]
    assert [datetime.fromisoformat(d) for d in dues] == sorted(
        datetime.fromisoformat(d) for d in dues
    )
    for bad in ("P0D", "PT-1H", "soon", "P90D"):
        refused = await http.get(
            f"/api/v1/supervisor/sla/at-risk?within={bad}", headers=tokens["supervisor"]
        )
        assert refused.status_code == 422, bad
        assert refused.json()["errors"][0]["field"].endswith("within")


async def test_stats_group_met_breached_and_medians(http, tokens, cases) -> None:
    now = datetime.now(UTC)
    params = {
        "from": (now - timedelta(days=1)).isoformat(),
        "to": (now + timedelta(days=1)).isoformat(),
        "group_by": "queue",
    }
    answer = await http.get(
        "/api/v1/supervisor/sla/stats", params=params, headers=tokens["supervisor"]
    )
    assert answer.status_code == 200, answer.text
    ours = next(g for g in answer.json()["groups"] if g["group"] == QUEUE)
    assert (ours["met"], ours["breached"], ours["met_pct"]) == (1, 2, 33.3)
    assert _seconds(ours["median_resolution"]) == 4 * 3600  # of 2 h and 6 h
    backwards = await http.get(
        "/api/v1/supervisor/sla/stats",
        params={**params, "to": params["from"], "from": params["to"]},
        headers=tokens["supervisor"],
    )
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "to"


def _seconds(duration: str) -> float:
    """pydantic writes durations as ISO 8601 (PT2400S, PT1H30M, P1DT2H)."""
    return TypeAdapter(timedelta).validate_python(duration).total_seconds()


async def test_workload_shows_each_queues_backlog(http, tokens, sessions) -> None:
    team, _ = await make_team(sessions, [], line=Line.L1)  # a queue nobody works
    headers = await supervisor_of(http, sessions, f"supervisor-{team}", [team])
    made = [await new_request(http, tokens["operator"]) for _ in range(2)]
    for created in made:
        moved = await http.post(
            f"/api/v1/requests/{created['id']}/reassign",
            json={"queue": team, "reason": "в пустую очередь"},
            headers=tokens["admin"],
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["assignee"] is None
    now = datetime.now(UTC)
    late = clock(
        "first_response", started=now - timedelta(hours=3), target=timedelta(hours=2),
        elapsed=timedelta(hours=3), breached_at=now - timedelta(hours=1), queue=team,
    )  # fmt: skip
    await write(sessions, made[0], [late])
    answer = await http.get("/api/v1/supervisor/workload", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["items"] == []  # nobody works the queue...
    (queue,) = answer.json()["queues"]  # ...but its backlog shows
    assert queue["queue"] == team
    assert (queue["open"], queue["unassigned"], queue["breached"]) == (2, 2, 1)
    oldest = datetime.fromisoformat(queue["oldest_unassigned_at"])
    assert oldest == datetime.fromisoformat(made[0]["registered_at"])
    for created in made:
        await cancel(http, tokens, created["id"])
