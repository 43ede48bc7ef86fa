"""A deal's controls hold against its own owner: a task is closed by its assignee (or the
deal's supervisor, or an admin), approval fields come only from the approval task, and
the deal's history says who did what."""

from __future__ import annotations

import random
import uuid

from tests.test_api import assert_problem

API = "/api/v1"


def org_inn() -> str:
    digits = [random.randint(1, 9)] + [random.randint(0, 9) for _ in range(8)]
    weights = [2, 4, 10, 3, 5, 9, 4, 6, 8]
    check = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11 % 10
    return "".join(map(str, digits)) + str(check)


async def test_owner_cannot_close_others_tasks_or_approve_himself(http, tokens) -> None:
    manager, supervisor = tokens["manager"], tokens["supervisor"]
    lawyer = await http.post(f"{API}/auth/token", data={"username": "lawyer", "password": "demo"})
    lawyer_h = {"Authorization": f"Bearer {lawyer.json()['access_token']}"}
    company = {
        "kind": "organization",
        "name": f"ООО «Контроль {uuid.uuid4().hex[:6]}»",
        "inn": org_inn(),
        "kpp": "773601001",
        "region": "RU-MOW",
        "segment": "b2b_commercial",
    }
    customer = await http.post(f"{API}/customers", json=company, headers=manager)
    assert customer.status_code == 201, customer.text
    body = {"customer_id": customer.json()["id"], "pipeline": "b2b", "title": "Поставка"}
    sneaky = await http.post(
        f"{API}/deals", json={**body, "fields": {"approval_ref": "сам"}}, headers=manager
    )
    assert [e["field"] for e in assert_problem(sneaky, 403, "forbidden")["errors"]] == [
        "fields.approval_ref"
    ]
    deal = (await http.post(f"{API}/deals", json=body, headers=manager)).json()
    url = f"{API}/deals/{deal['id']}"

    async def open_task(title: str) -> dict:
        view = (await http.get(url, headers=manager)).json()
        return next(t for t in view["tasks"] if t["title"] == title and t["status"] == "open")

    async def complete(task: dict, headers: dict, result: str = "готово"):
        return await http.post(
            f"{url}/tasks/{task['id']}/complete", json={"result": result}, headers=headers
        )

    async def step(fields: dict, title: str) -> None:
        assert (await http.patch(url, json={"fields": fields}, headers=manager)).status_code == 200
        assert (await complete(await open_task(title), manager)).status_code == 200
        moved = await http.post(f"{url}/advance", json={}, headers=manager)
        assert moved.status_code == 200, moved.text

    await step({"budget": 900_000, "decision_maker": "CFO"}, "Первый звонок клиенту")
    await step({"volume": 500}, "Встреча: потребности клиента")

    # Proposal: a discount over 10 % needs approval, which the owner cannot give himself.
    await http.patch(url, json={"fields": {"tariff": "standard", "discount": 15}}, headers=manager)
    by_hand = await http.patch(url, json={"fields": {"approval_ref": "A-1"}}, headers=manager)
    assert [e["field"] for e in assert_problem(by_hand, 403, "forbidden")["errors"]] == [
        "fields.approval_ref"
    ]
    approval = await open_task("Согласовать скидку")
    assert approval["assignee"] == "supervisor"
    assert_problem(await complete(approval, manager), 403, "forbidden")
    cancel = await http.post(f"{url}/tasks/{approval['id']}/cancel", json={}, headers=manager)
    assert_problem(cancel, 403, "forbidden")
    approved = await complete(approval, supervisor, "СОГЛ-7")
    assert approved.status_code == 200, approved.text
    assert approved.json()["fields"]["approval_ref"] == "СОГЛ-7"
    done = next(t for t in approved.json()["tasks"] if t["id"] == approval["id"])
    assert done["closed_by"] == "supervisor"
    assert (await complete(await open_task("Подготовить КП"), manager)).status_code == 200
    assert (await http.post(f"{url}/advance", json={}, headers=manager)).status_code == 200
    assert (await http.post(f"{url}/advance", json={}, headers=manager)).status_code == 200

    # Contract: the lawyer's review blocks, and only the lawyer (or above) closes it.
    review = await open_task("Проверка договора юристом")
    assert review["assignee"] == "lawyer"
    assert_problem(await complete(review, manager), 403, "forbidden")
    skipped = await http.post(f"{url}/tasks/{review['id']}/cancel", json={}, headers=manager)
    assert_problem(skipped, 403, "forbidden")
    assert_problem(await http.post(f"{url}/win", json={}, headers=manager), 409)
    mine = await http.get(f"{API}/tasks?assignee=me", headers=lawyer_h)
    assert review["id"] in {
        t["task_id"] for t in mine.json()["items"] if t["deal_id"] == deal["id"]
    }
    assert (await http.get(url, headers=lawyer_h)).status_code == 200
    reviewed = await complete(review, lawyer_h, "договор проверен")
    assert reviewed.status_code == 200, reviewed.text
    won = await http.post(f"{url}/win", json={}, headers=manager)
    assert won.status_code == 200 and won.json()["status"] == "won"

    history = await http.get(f"{url}/events", headers=manager)
    assert history.status_code == 200
    closes = [
        (e["actor"], e["data"]["task"])
        for e in history.json()["items"]
        if e["action"] == "complete_task"
    ]
    assert ("supervisor", approval["id"]) in closes and ("lawyer", review["id"]) in closes
    assert [e["action"] for e in history.json()["items"]][-1] == "win"
    assert_problem(await http.get(f"{url}/events", headers=tokens["manager-b"]), 404)
