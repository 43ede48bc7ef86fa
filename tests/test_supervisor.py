"""Supervisors: workload of their zone, reassigning one or many, never outside their zone."""

from __future__ import annotations

import uuid

from caseflow.people.store import upsert_user
from caseflow.platform.db import transaction
from caseflow.requests.lifecycle import Role
from tests.helpers import ROMASHKA


async def new_request(http, headers) -> dict:
    body = {
        "customer_id": ROMASHKA,
        "channel": "phone",
        "topic": "consultation",
        "subject": "Вопрос",
        "description": "Описание",
    }
    answer = await http.post("/api/v1/requests", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_workload_shows_the_zone_with_open_counts(http, tokens) -> None:
    created = await new_request(http, tokens["operator"])
    answer = await http.get("/api/v1/supervisor/workload", headers=tokens["supervisor"])
    assert answer.status_code == 200
    rows = {row["username"]: row for row in answer.json()["items"]}
    assert rows[created["assignee"]]["open"] >= 1
    assert rows["agent2-away"]["available"] is False
    assert rows["agent2-away"]["availability"] == "away"
    assert {"supervisor", "admin", "manager"}.isdisjoint(rows)  # only people in teams
    forbidden = await http.get("/api/v1/supervisor/workload", headers=tokens["operator"])
    assert forbidden.status_code == 403


async def test_bulk_reassign_reports_each_request(http, tokens) -> None:
    first = await new_request(http, tokens["operator"])
    second = await new_request(http, tokens["operator"])
    missing = str(uuid.uuid4())
    answer = await http.post(
        "/api/v1/supervisor/reassign",
        headers=tokens["supervisor"],
        json={
            "request_ids": [first["id"], missing, second["id"]],
            "assignee": "agent2",
            "reason": "отпуск у первой линии",
        },
    )
    assert answer.status_code == 200, answer.text
    results = answer.json()
    assert [r["status"] for r in results] == [200, 404, 200]
    assert {r["request"]["assignee"] for r in results if r["request"]} == {"agent2"}
    events = (
        await http.get(f"/api/v1/requests/{first['id']}/events", headers=tokens["supervisor"])
    ).json()["items"]
    assert (events[-1]["action"], events[-1]["actor"], events[-1]["reason"]) == (
        "reassign",
        "supervisor",
        "отпуск у первой линии",
    )
    bad = await http.post(
        "/api/v1/supervisor/reassign",
        headers=tokens["supervisor"],
        json={"request_ids": [first["id"]], "reason": "x"},
    )
    assert bad.status_code == 422


async def supervisor_of(http, sessions, username: str, teams: list[str]) -> dict[str, str]:
    """A supervisor whose zone is these teams; the headers of their token."""
    async with transaction(sessions) as session:
        await upsert_user(
            session, username=username, role=Role.SUPERVISOR, password="demo", zone_teams=teams
        )
    answer = await http.post("/api/v1/auth/token", data={"username": username, "password": "demo"})
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def test_a_supervisor_cannot_reassign_outside_their_zone(http, tokens, sessions) -> None:
    headers = await supervisor_of(http, sessions, "supervisor-hotline", ["hotline"])
    created = await new_request(http, tokens["operator"])
    rid = created["id"]
    outside = await http.post(
        f"/api/v1/requests/{rid}/reassign",
        headers=headers,
        json={"queue": "l2-support", "reason": "x"},
    )
    assert outside.status_code == 403 and "zone" in outside.json()["detail"]
    to_agent = await http.post(
        f"/api/v1/requests/{rid}/reassign",
        headers=headers,
        json={"assignee": "agent2", "reason": "x"},
    )
    assert to_agent.status_code == 403
    inside = await http.post(
        f"/api/v1/requests/{rid}/reassign",
        headers=headers,
        json={"assignee": "operator-b", "reason": "нагрузка"},
    )
    assert inside.status_code == 200 and inside.json()["assignee"] == "operator-b"
    workload = (await http.get("/api/v1/supervisor/workload", headers=headers)).json()["items"]
    assert {row["team"] for row in workload} == {"hotline"}
