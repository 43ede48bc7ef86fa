"""What the request's page offers is what the workflow allows, and it says who holds the
request and why: take, return, the topic's resolving line, own queues and capacity."""

from __future__ import annotations

import uuid

from caseflow.people.store import upsert_team, upsert_user
from caseflow.platform.db import transaction
from caseflow.requests.lifecycle import Line, Role
from tests.test_bad_input import cancel
from tests.test_email import new_customer, register
from tests.test_supervisor import new_request

API = "/api/v1"


async def person(http, sessions, *, team: str, capacity: int = 10) -> dict[str, str]:
    """A fresh L1 operator of `team` (made if missing); the headers of their token."""
    name = f"op-{uuid.uuid4().hex[:8]}"
    async with transaction(sessions) as session:
        await upsert_team(session, code=team, name=team, line=Line.L1)
        await upsert_user(
            session, username=name, role=Role.OPERATOR, team=team, password="demo",
            capacity=capacity,
        )  # fmt: skip
    answer = await http.post("/api/v1/auth/token", data={"username": name, "password": "demo"})
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def post(http, headers, rid: str, action: str, body: dict | None = None):
    return await http.post(f"{API}/requests/{rid}/{action}", json=body or {}, headers=headers)


async def test_what_you_took_is_not_offered_again(http, tokens) -> None:
    created = await new_request(http, tokens["operator"])
    holder = created["assignee"]
    took = await post(http, tokens[holder], created["id"], "take")
    assert took.status_code == 409 and "already yours" in took.json()["detail"]
    page = await http.get(f"{API}/requests/{created['id']}", headers=tokens[holder])
    assert "take" not in page.json()["allowed_actions"]
    assert "start" in page.json()["allowed_actions"]
    await cancel(http, tokens, created["id"])


async def test_taking_is_from_ones_own_queue(http, tokens, sessions) -> None:
    created = await new_request(http, tokens["operator"])
    assert created["queue"] == "hotline"
    outsider = await person(http, sessions, team="l1-outbound")
    page = await http.get(f"{API}/requests/{created['id']}", headers=outsider)
    assert page.status_code == 200 and "take" not in page.json()["allowed_actions"]
    took = await post(http, outsider, created["id"], "take")
    assert took.status_code == 403 and "own queue" in took.json()["detail"]
    # A colleague of the same queue may take it over; a supervisor reassigns.
    colleague = "operator-b" if created["assignee"] == "operator" else "operator"
    taken = await post(http, tokens[colleague], created["id"], "take")
    assert taken.status_code == 200, taken.text
    assert taken.json()["assignee"] == colleague
    assert taken.json()["assignment"]["rule"] == "take"
    await cancel(http, tokens, created["id"])


async def test_capacity_is_kept_or_the_override_recorded(http, tokens, sessions) -> None:
    headers = await person(http, sessions, team="hotline", capacity=0)
    created = await new_request(http, tokens["operator"])
    refused = await post(http, headers, created["id"], "take")
    assert refused.status_code == 409 and refused.json()["code"] == "at_capacity"
    assert refused.json()["capacity"] == 0
    taken = await post(http, headers, created["id"], "take", {"override_capacity": True})
    assert taken.status_code == 200, taken.text
    assert "over capacity" in taken.json()["assignment"]["explanation"]
    events = await http.get(f"{API}/requests/{created['id']}/events", headers=headers)
    took = [e for e in events.json()["items"] if e["action"] == "take"]
    assert took[-1]["data"]["capacity_override"] is True
    await cancel(http, tokens, created["id"])


async def test_a_topic_is_resolved_on_its_resolving_line(http, tokens) -> None:
    customer, _ = await new_customer(http, tokens)
    created = await register(
        http, tokens, customer, topic="tariff_change",
        fields={"contract_number": "Д-2026/15", "wanted_tariff": "Бизнес"},
        proofs=["name", "code_word"],
    )  # fmt: skip
    rid, holder = created["id"], created["assignee"]
    assert created["line"] == "L1"
    started = await post(http, tokens[holder], rid, "start")
    assert "resolve" not in started.json()["allowed_actions"]
    refused = await post(http, tokens[holder], rid, "resolve", {"resolution": "сменили"})
    assert refused.status_code == 409 and "resolved on L2" in refused.json()["detail"]
    assert "escalate" in refused.json()["allowed"]
    up = await post(
        http, tokens[holder], rid, "escalate", {"to_line": "L2", "reason": "смена тарифа"}
    )
    assert up.status_code == 200, up.text
    await cancel(http, tokens, rid)


async def test_after_return_the_assignment_says_who_holds_it(http, tokens) -> None:
    created = await new_request(http, tokens["operator"])
    rid, holder = created["id"], created["assignee"]
    await post(http, tokens[holder], rid, "start")
    up = await post(http, tokens[holder], rid, "escalate", {"to_line": "L2", "reason": "права"})
    assert up.status_code == 200, up.text
    l2 = up.json()["assignee"]
    back = await post(http, tokens[l2], rid, "return", {"reason": "разъяснено"})
    assert back.status_code == 200, back.text
    view = back.json()
    assert (view["line"], view["assignee"]) == ("L1", holder)
    assignment = view["assignment"]
    assert (assignment["line"], assignment["assignee"], assignment["rule"]) == (
        "L1", holder, "return",
    )  # fmt: skip
    assert "разъяснено" in assignment["explanation"]
    page = await http.get(f"{API}/requests/{rid}", headers=tokens["supervisor"])
    assert page.json()["assignment"] == assignment
    await cancel(http, tokens, rid)
