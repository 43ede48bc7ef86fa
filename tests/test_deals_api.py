"""Deals over the API (dev server, PostgreSQL): access, ownership, gates, tasks, timeline."""

from __future__ import annotations

import uuid


async def company_of(http, tokens, manager: str = "manager") -> str:
    body = {
        "kind": "organization",
        "name": f"ООО «Сделка {uuid.uuid4().hex[:6]}»",
        "emails": [f"d-{uuid.uuid4().hex[:8]}@example.org"],
        "region": "RU-MOW",
        "segment": "b2b_commercial",
    }
    answer = await http.post("/api/v1/customers", json=body, headers=tokens[manager])
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def new_deal(http, tokens, customer: str, manager: str = "manager"):
    return await http.post(
        "/api/v1/deals",
        json={"customer_id": customer, "pipeline": "b2b", "title": "Поставка", "amount": 5e5},
        headers=tokens[manager],
    )


async def test_a_deal_starts_with_its_tasks_and_is_seen_by_its_people_only(http, tokens) -> None:
    customer = await company_of(http, tokens)
    created = await new_deal(http, tokens, customer)
    assert created.status_code == 201, created.text
    deal = created.json()
    assert deal["stage"] == "qualification" and deal["status"] == "open"
    assert [t["title"] for t in deal["tasks"]] == ["Первый звонок клиенту"]
    url = f"/api/v1/deals/{deal['id']}"
    assert (await http.get(url, headers=tokens["manager"])).status_code == 200
    assert (await http.get(url, headers=tokens["manager-b"])).status_code == 404
    assert (await http.get(url, headers=tokens["supervisor"])).status_code == 200
    assert (await http.get(url, headers=tokens["operator"])).status_code == 404
    mine = await http.get("/api/v1/deals?stage=qualification", headers=tokens["manager"])
    assert deal["id"] in {d["id"] for d in mine.json()["items"]}
    theirs = await http.get("/api/v1/deals?stage=qualification", headers=tokens["manager-b"])
    assert deal["id"] not in {d["id"] for d in theirs.json()["items"]}
    assert (
        await http.post(f"{url}/advance", headers=tokens["manager-b"], json={})
    ).status_code == 404


async def test_a_second_manager_gets_no_deal_with_a_taken_customer(http, tokens) -> None:
    customer = await company_of(http, tokens)
    assert (await new_deal(http, tokens, customer)).status_code == 201
    # Another manager does not see the customer at all: answered as if there were none.
    second = await new_deal(http, tokens, customer, manager="manager-b")
    missing = await new_deal(http, tokens, str(uuid.uuid4()), manager="manager-b")
    assert second.status_code == missing.status_code == 422
    assert second.json()["errors"] == missing.json()["errors"]
    # Who sees the customer is told it is taken, by unit.
    second = await new_deal(http, tokens, customer, manager="supervisor")
    assert second.status_code == 409
    problem = second.json()
    assert problem["type"] == "customer_owned" and problem["unit"]
    assert "manager" not in problem["detail"]  # the unit, not the person


async def test_gates_fields_and_tasks(http, tokens) -> None:
    customer = await company_of(http, tokens)
    deal = (await new_deal(http, tokens, customer)).json()
    url = f"/api/v1/deals/{deal['id']}"
    refused = await http.post(f"{url}/advance", headers=tokens["manager"], json={})
    assert refused.status_code == 409
    body = refused.json()
    assert body["type"] == "stage_requirements_unmet"
    assert [m.get("field") or m.get("task") for m in body["missing"]] == [
        "budget",
        "decision_maker",
        deal["tasks"][0]["id"],
    ]
    bad = await http.patch(url, headers=tokens["manager"], json={"fields": {"budget": [1]}})
    assert bad.status_code == 422
    patched = await http.patch(
        url, headers=tokens["manager"], json={"fields": {"budget": 1000, "decision_maker": "CEO"}}
    )
    assert patched.status_code == 200 and patched.json()["fields"]["budget"] == 1000
    tasks = await http.get("/api/v1/tasks?assignee=me&overdue=false", headers=tokens["manager"])
    task_id = deal["tasks"][0]["id"]
    assert (deal["id"], task_id) in {(t["deal_id"], t["task_id"]) for t in tasks.json()["items"]}
    overdue = await http.get("/api/v1/tasks?assignee=me&overdue=true", headers=tokens["manager"])
    assert deal["id"] not in {t["deal_id"] for t in overdue.json()["items"]}
    done = await http.post(
        f"{url}/tasks/{task_id}/complete", headers=tokens["manager"], json={"result": "ok"}
    )
    assert done.status_code == 200, done.text
    moved = await http.post(f"{url}/advance", headers=tokens["manager"], json={})
    assert moved.status_code == 200 and moved.json()["stage"] == "needs_analysis"
    back = await http.post(f"{url}/back", headers=tokens["manager"], json={"to_stage": "x"})
    assert back.status_code == 422  # a reason is required
    win = await http.post(f"{url}/win", headers=tokens["manager"], json={})
    assert win.status_code == 409 and win.json()["type"] == "illegal_transition"
    timeline = await http.get(
        f"/api/v1/customers/{customer}/interactions", headers=tokens["manager"]
    )
    deals = [i for i in timeline.json()["items"] if i["kind"] == "deal"]
    assert deals and deals[0]["link"] == f"/api/v1/deals/{deal['id']}"
