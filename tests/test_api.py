"""The HTTP API against PostgreSQL and a real Temporal dev server with the worker running."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select

from caseflow.models import Customer
from cli.demo import DEMO_NAMESPACE
from tests.conftest import METRICS_TOKEN
from tests.helpers import PETROV, ROMASHKA

PROBLEM = "application/problem+json"


def intake(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "customer_id": ROMASHKA,
        "channel": "phone",
        "topic": "consultation",
        "subject": "Смена тарифа",
        "description": "Клиент хочет сменить тариф.",
    }
    body.update(overrides)
    return body


def assert_problem(answer: httpx.Response, status: int, code: str | None = None) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    body = answer.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if code:
        assert body["type"] == code
    return body


async def test_token_needs_the_right_password(http) -> None:
    answer = await http.post(
        "/api/v1/auth/token", data={"username": "operator", "password": "wrong"}
    )
    assert_problem(answer, 401, "invalid_credentials")
    assert_problem(await http.get("/api/v1/requests"), 401)
    bad = await http.get("/api/v1/requests", headers={"Authorization": "Bearer nonsense"})
    assert_problem(bad, 401)


ORG = {
    "kind": "organization",
    "name": "АО «Вектор»",
    "inn": "7736207543",
    "kpp": "773601001",
    "ogrn": "1037739010891",
    "phones": ["+7 (499) 700-10-20"],
    "emails": ["Office@Vector.RU"],
    "region": "RU-MOW",
    "segment": "b2b_commercial",
}


async def test_customer_duplicates_are_refused_after_normalisation(http, tokens) -> None:
    headers = tokens["operator"]
    created = await http.post("/api/v1/customers", json=ORG, headers=headers)
    assert created.status_code == 201, created.text
    customer = created.json()
    assert customer["phones"] == ["+74997001020"] and customer["emails"] == ["office@vector.ru"]

    same_company = {**ORG, "name": "Вектор", "ogrn": None, "phones": [], "emails": []}
    body = assert_problem(
        await http.post("/api/v1/customers", json=same_company, headers=headers),
        409,
        "duplicate_customer",
    )
    assert body["duplicate_of"] == customer["id"] and body["matched_on"] == "inn_kpp"

    for key, value, matched in (
        ("phones", ["8 499 700 10 20"], "phone"),
        ("emails", ["OFFICE@vector.ru"], "email"),
    ):
        person = {
            "kind": "person",
            "name": "Кто-то",
            "region": "RU-MOW",
            "segment": "b2c",
            key: value,
        }
        body = assert_problem(
            await http.post("/api/v1/customers", json=person, headers=headers),
            409,
            "duplicate_customer",
        )
        assert (body["duplicate_of"], body["matched_on"]) == (customer["id"], matched)

    by_ogrn = {**ORG, "inn": None, "kpp": None, "phones": [], "emails": []}
    body = assert_problem(
        await http.post("/api/v1/customers", json=by_ogrn, headers=headers),
        409,
        "duplicate_customer",
    )
    assert body["matched_on"] == "ogrn"

    found = await http.get(
        "/api/v1/customers", params={"phone": "8 (499) 700-10-20"}, headers=headers
    )
    assert [c["id"] for c in found.json()["items"]] == [customer["id"]]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("inn", "7736207540"),
        ("ogrn", "1037739010890"),
        ("kpp", "77-36"),
        ("phones", ["12"]),
        ("emails", ["not-an-email"]),
    ],
)
async def test_bad_identifiers_are_422_naming_the_field(http, tokens, field, value) -> None:
    body = {**ORG, "inn": None, "kpp": None, "ogrn": None, "phones": [], "emails": [], field: value}
    problem = assert_problem(
        await http.post("/api/v1/customers", json=body, headers=tokens["operator"]), 422
    )
    assert problem["errors"][0]["field"].split(".")[0] == field


async def test_customer_create_is_idempotent(http, tokens) -> None:
    headers = {**tokens["operator"], "Idempotency-Key": f"cust-{uuid.uuid4()}"}
    body = {
        "kind": "person",
        "name": "Пётр Idem",
        "region": "RU-MOW",
        "segment": "b2c",
        "phones": ["+7 903 111-22-33"],
    }
    first = await http.post("/api/v1/customers", json=body, headers=headers)
    again = await http.post("/api/v1/customers", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    other = await http.post("/api/v1/customers", json={**body, "name": "Другой"}, headers=headers)
    assert_problem(other, 409, "idempotency_key_reused")


async def test_intake_answers_registered_and_assigned(http, tokens, dev_env) -> None:
    headers = {**tokens["operator"], "Idempotency-Key": f"req-{uuid.uuid4()}"}
    answer = await http.post("/api/v1/requests", json=intake(), headers=headers)
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["number"].startswith("REQ-") and len(created["number"]) == 10
    assert created["state"] == "assigned" and created["line"] == "L1"
    assert created["queue"] == "hotline" and created["assignee"] in {"operator", "operator-b"}
    assert created["assignment"]["rule"] == "everyone-else"
    assert "lowest load" in created["assignment"]["explanation"]

    again = await http.post("/api/v1/requests", json=intake(), headers=headers)
    assert again.status_code == 201 and again.json()["id"] == created["id"]
    assert again.json()["number"] == created["number"]
    reused = await http.post("/api/v1/requests", json=intake(subject="другое"), headers=headers)
    assert_problem(reused, 409, "idempotency_key_reused")

    described = await dev_env.client.get_workflow_handle(f"request-{created['id']}").describe()
    assert described.workflow_type == "RequestWorkflow"
    listed = await http.get("/api/v1/requests", params={"limit": 200}, headers=tokens["operator"])
    assert created["id"] in [r["id"] for r in listed.json()["items"]]


async def test_numbers_are_gapless(http, tokens) -> None:
    numbers = []
    for _ in range(4):
        answer = await http.post("/api/v1/requests", json=intake(), headers=tokens["operator"])
        numbers.append(int(answer.json()["number"].removeprefix("REQ-")))
    assert numbers == list(range(numbers[0], numbers[0] + 4))


async def test_intake_by_match_keys_and_routing_rules(http, tokens) -> None:
    by_phone = intake(customer_id=None, customer={"phone": "8 (812) 123-45-67"})
    answer = await http.post("/api/v1/requests", json=by_phone, headers=tokens["operator"])
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["customer_id"] == PETROV
    assert (body["queue"], body["assignment"]["rule"]) == ("hotline-nw", "north-west-hotline")
    unknown = intake(customer_id=None, customer={"email": "nobody@nowhere.example"})
    problem = assert_problem(
        await http.post("/api/v1/requests", json=unknown, headers=tokens["operator"]), 422
    )
    assert problem["errors"][0]["field"] == "customer"


async def test_intake_validation_errors_are_problems(http, tokens) -> None:
    problem = assert_problem(
        await http.post("/api/v1/requests", json={"channel": "pigeon"}, headers=tokens["operator"]),
        422,
        "validation_error",
    )
    fields = {e["field"] for e in problem["errors"]}
    assert {"channel", "topic", "subject", "description"} <= fields
    missing = intake(customer_id=str(uuid.uuid4()))
    problem = assert_problem(
        await http.post("/api/v1/requests", json=missing, headers=tokens["operator"]), 422
    )
    assert problem["errors"] == [{"field": "customer_id", "reason": "no such customer"}]
    broken = await http.post(
        "/api/v1/requests",
        content=b"{not json",
        headers={**tokens["operator"], "content-type": "application/json"},
    )
    assert_problem(broken, 422)


async def _new_request(http, tokens, who: str = "operator") -> dict:
    answer = await http.post("/api/v1/requests", json=intake(), headers=tokens[who])
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_lifecycle_over_http_with_escalation_and_return(http, tokens) -> None:
    request = await _new_request(http, tokens)
    rid = request["id"]
    op, b2b = tokens["operator"], tokens["agent2-b2b"]

    async def post(action: str, headers: dict, body: dict | None = None) -> httpx.Response:
        return await http.post(f"/api/v1/requests/{rid}/{action}", json=body or {}, headers=headers)

    early = assert_problem(
        await post("resolve", op, {"resolution": "x"}), 409, "illegal_transition"
    )
    assert "start" in early["allowed"] and "resolve" not in early["allowed"]
    assert_problem(await post("resolve", op, {}), 422)
    assert_problem(await post("reassign", op, {"assignee": "operator-b", "reason": "x"}), 403)
    assert_problem(await post("fly", op), 404)

    assert (await post("start", op)).json()["state"] == "in_progress"
    assert_problem(await http.get(f"/api/v1/requests/{rid}", headers=b2b), 404)
    escalated = (await post("escalate", op, {"to_line": "L2", "reason": "права"})).json()
    assert (escalated["line"], escalated["queue"], escalated["assignee"]) == (
        "L2",
        "l2-b2b",
        "agent2-b2b",
    )
    seen = await http.get(f"/api/v1/requests/{rid}", headers=b2b)
    assert seen.status_code == 200 and "return" in seen.json()["allowed_actions"]
    assert_problem(await post("start", tokens["agent2"]), 404)  # another team's queue
    returned = (await post("return", b2b, {"reason": "вопрос первой линии"})).json()
    assert (returned["line"], returned["assignee"]) == ("L1", request["assignee"])

    moved = await post(
        "reassign", tokens["supervisor"], {"queue": "l2-support", "reason": "нагрузка"}
    )
    assert moved.json()["queue"] == "l2-support"
    assert moved.json()["assignee"] in {"agent2", "agent2-junior"}  # the less loaded of the two
    assert_problem(
        await post("reassign", tokens["supervisor"], {"queue": "nowhere", "reason": "x"}), 422
    )
    await post("start", tokens["agent2"])
    await post("comment", tokens["agent2"], {"text": "готово", "public": True})
    assert (await post("resolve", tokens["agent2"], {"resolution": "сделано"})).status_code == 200
    assert (await post("close", tokens["agent2"])).json()["state"] == "closed"
    assert_problem(
        await post("reopen", tokens["agent2"], {"reason": "x"}), 409, "illegal_transition"
    )

    events = (
        await http.get(f"/api/v1/requests/{rid}/events", headers=tokens["supervisor"])
    ).json()["items"]
    assert [e["action"] for e in events] == [
        "register",
        "assign",
        "start",
        "escalate",
        "return",
        "reassign",
        "start",
        "comment",
        "resolve",
        "close",
    ]
    escalate = events[3]
    assert (escalate["actor"], escalate["reason"], escalate["to_state"]) == (
        "operator",
        "права",
        "assigned",
    )
    listed = await http.get(
        "/api/v1/requests", params={"state": "closed", "limit": 200}, headers=tokens["supervisor"]
    )
    assert rid in [r["id"] for r in listed.json()["items"]]


async def test_visibility_by_role(http, tokens) -> None:
    request = await _new_request(http, tokens)
    rid = request["id"]
    for who, status in (
        ("operator-b", 200),
        ("supervisor", 200),
        ("admin", 200),
        ("agent2", 404),
        ("expert3", 404),
        ("manager", 404),
    ):
        answer = await http.get(f"/api/v1/requests/{rid}", headers=tokens[who])
        assert answer.status_code == status, (who, answer.text)
    assert_problem(await http.get(f"/api/v1/requests/{uuid.uuid4()}", headers=tokens["admin"]), 404)
    agent_list = await http.get("/api/v1/requests", headers=tokens["agent2"], params={"limit": 200})
    assert all(
        r["queue"] == "l2-support" or r["assignee"] == "agent2" for r in agent_list.json()["items"]
    )


async def test_list_is_paginated_in_sql(http, tokens) -> None:
    for _ in range(3):
        await _new_request(http, tokens, "operator-b")
    seen: list[str] = []
    numbers: list[str] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (
            await http.get("/api/v1/requests", params=params, headers=tokens["operator-b"])
        ).json()
        assert len(page["items"]) <= 2
        seen += [r["id"] for r in page["items"]]
        numbers += [r["number"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) >= 3
    assert numbers == sorted(numbers, reverse=True)  # newest first, nothing skipped twice
    assert_problem(
        await http.get("/api/v1/requests", params={"cursor": "@@@"}, headers=tokens["operator"]),
        422,
    )
    assert_problem(
        await http.get("/api/v1/requests", params={"limit": 0}, headers=tokens["operator"]), 422
    )


async def test_health_and_docs(http) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["temporal"] == "ok"
    spec = (await http.get("/openapi.json")).json()
    escalate = spec["paths"]["/api/v1/requests/{request_id}/escalate"]["post"]
    body = escalate["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/EscalateBody")
    assert spec["components"]["schemas"]["EscalateBody"]["required"] == ["reason", "to_line"]
    for code in ("401", "403", "404", "409", "422"):
        content = escalate["responses"][code]["content"]
        assert content["application/problem+json"]["schema"]["$ref"].endswith("/Problem")
    scraper = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    assert "caseflow_http_requests_total" in (await http.get("/metrics", headers=scraper)).text


async def test_a_manager_sees_only_their_customers(http, tokens, sessions) -> None:
    mine = await http.post(
        "/api/v1/customers",
        headers=tokens["manager"],
        json={
            "kind": "person",
            "name": "Клиент Менеджера",
            "region": "RU-MOW",
            "segment": "b2c",
            "emails": ["client-of-manager@example.org"],
        },
    )
    assert mine.status_code == 201, mine.text
    own = await http.get(f"/api/v1/customers/{mine.json()['id']}", headers=tokens["manager"])
    assert own.status_code == 200
    assert_problem(await http.get(f"/api/v1/customers/{ROMASHKA}", headers=tokens["manager"]), 404)
    assert (
        await http.get(f"/api/v1/customers/{ROMASHKA}", headers=tokens["operator"])
    ).status_code == 200
    listed = (
        await http.get("/api/v1/customers", params={"limit": 200}, headers=tokens["manager"])
    ).json()["items"]
    # Their own, and the one whose contract they manage (account manager); other tests may
    # have given them more, but every one listed is theirs.
    vodokanal = str(uuid.uuid5(DEMO_NAMESPACE, "МУП «Водоканал»"))
    ids = {c["id"] for c in listed}
    assert {mine.json()["id"], vodokanal} <= ids and ROMASHKA not in ids
    async with sessions() as session:
        theirs = await session.scalars(select(Customer).where(Customer.id.in_(ids)))
        assert all(
            "manager" in (c.created_by, c.account_manager, c.personal_manager) for c in theirs
        )
