"""Finding things as a person at a desk does: a request by its number or a word, one's own
requests, a customer by a Cyrillic word in any case; a typo in a parameter is said, not
ignored; a won deal makes its prospect a client."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from api.routes.customers import name_matches
from caseflow.models import Customer
from caseflow.platform import db as database
from tests.test_api import assert_problem
from tests.test_bad_input import cancel
from tests.test_deal_controls import org_inn

API = "/api/v1"


@pytest.fixture(scope="module")
def tag() -> str:
    return uuid.uuid4().hex[:6]


async def test_a_request_is_found_by_number_word_or_customer(http, tokens, tag) -> None:
    operator = tokens["operator"]
    company = {
        "kind": "organization",
        "name": f"ООО «Сценарий {tag}»",
        "region": "RU-MOW",
        "segment": "b2b_commercial",
    }
    customer = (await http.post(f"{API}/customers", json=company, headers=operator)).json()["id"]
    body = {
        "customer_id": customer,
        "channel": "phone",
        "topic": "consultation",
        "subject": f"Перерасчёт {tag}",
        "description": "Клиент просит перерасчёт",
    }
    made = (await http.post(f"{API}/requests", json=body, headers=operator)).json()

    async def found(query: str) -> set[str]:
        answer = await http.get(f"{API}/requests?{query}", headers=operator)
        assert answer.status_code == 200, answer.text
        return {r["id"] for r in answer.json()["items"]}

    assert await found(f"number={made['number'].lower()}") == {made["id"]}
    assert made["id"] in await found(f"q={made['number']}")
    assert made["id"] in await found(f"q=перерасчёт {tag}")
    assert made["id"] in await found(f"q=СЦЕНАРИЙ {tag}")
    assert made["id"] not in await found("q=nothing-like-it")
    mine = await http.get(f"{API}/requests?assignee=me&limit=200", headers=operator)
    assert {r["assignee"] for r in mine.json()["items"]} <= {"operator"}
    if made["assignee"] == "operator":
        assert made["id"] in {r["id"] for r in mine.json()["items"]}
    await cancel(http, tokens, made["id"])


@pytest.mark.parametrize("word", ["сценарий", "СЦЕНАРИЙ", "Сценарий", "сЦеНаРиЙ"])
async def test_customer_search_ignores_case_in_any_script(http, tokens, tag, word) -> None:
    answer = await http.get(f"{API}/customers?q={word} {tag}", headers=tokens["operator"])
    assert answer.status_code == 200
    assert [c["name"] for c in answer.json()["items"]] == [f"ООО «Сценарий {tag}»"]


async def test_cyrillic_search_ignores_case_on_sqlite_too(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'search.db'}"
    await asyncio.to_thread(database.upgrade, url.replace("+aiosqlite", ""))
    engine = database.make_engine(url)
    try:
        async with database.transaction(database.make_sessionmaker(engine)) as session:
            session.add(
                Customer(
                    id="c1",
                    kind="organization",
                    name="ООО «Сценарий»",
                    region="RU-MOW",
                    segment="b2b_commercial",
                    tier="standard",
                    locale="ru",
                )
            )
        async with database.make_sessionmaker(engine)() as session:
            for word in ("сценарий", "СЦЕНАРИЙ", "Сценарий"):
                found = await session.scalars(select(Customer.name).where(name_matches(word)))
                assert list(found) == ["ООО «Сценарий»"], word
    finally:
        await engine.dispose()


async def test_an_unknown_parameter_is_named(http, tokens) -> None:
    answer = await http.get(f"{API}/requests?asignee=me&limit=5", headers=tokens["operator"])
    problem = assert_problem(answer, 422, "validation_error")
    assert [e["field"] for e in problem["errors"]] == ["asignee"]
    fine = await http.get(f"{API}/requests?assignee=me&limit=5", headers=tokens["operator"])
    assert fine.status_code == 200


async def test_a_won_deal_makes_the_prospect_a_client(http, tokens) -> None:
    manager = tokens["manager"]
    company = {
        "kind": "organization",
        "name": f"ООО «Лид {uuid.uuid4().hex[:6]}»",
        "inn": org_inn(),
        "kpp": "773601001",
        "region": "RU-MOW",
        "segment": "b2b_commercial",
        "status": "prospect",
    }
    customer = (await http.post(f"{API}/customers", json=company, headers=manager)).json()["id"]
    deal = (
        await http.post(
            f"{API}/deals",
            json={"customer_id": customer, "pipeline": "b2b", "title": "Первая поставка"},
            headers=manager,
        )
    ).json()
    url = f"{API}/deals/{deal['id']}"
    supervisor = tokens["supervisor"]
    fields = {"budget": 1, "decision_maker": "CEO", "volume": 5, "tariff": "standard"}
    await http.patch(url, json={"fields": fields}, headers=manager)
    for _ in range(5):  # every stage: close its open tasks (as whoever they are for), advance
        view = (await http.get(url, headers=manager)).json()
        for task in [t for t in view["tasks"] if t["status"] == "open"]:
            who = {"supervisor": supervisor}.get(task["assignee"], manager)
            if task["assignee"] == "lawyer":
                login = await http.post(
                    f"{API}/auth/token", data={"username": "lawyer", "password": "demo"}
                )
                who = {"Authorization": f"Bearer {login.json()['access_token']}"}
            done = await http.post(f"{url}/tasks/{task['id']}/complete", json={}, headers=who)
            assert done.status_code == 200, done.text
        if view["stage"] == "contract":
            break
        assert (await http.post(f"{url}/advance", json={}, headers=manager)).status_code == 200
    before = (await http.get(f"{API}/customers/{customer}", headers=manager)).json()
    assert before["status"] == "prospect"
    won = await http.post(f"{url}/win", json={}, headers=manager)
    assert won.status_code == 200, won.text
    after = (await http.get(f"{API}/customers/{customer}", headers=manager)).json()
    assert after["status"] == "client"


async def test_sla_stats_take_dates_and_default_to_today(http, tokens) -> None:
    supervisor = tokens["supervisor"]
    day = await http.get(
        f"{API}/supervisor/sla/stats?from=2026-12-01&to=2026-12-01", headers=supervisor
    )
    assert day.status_code == 200, day.text
    # Whole days in the supervisor's time zone (Moscow, UTC+3, by default).
    assert (day.json()["from"], day.json()["to"]) == (
        "2026-11-30T21:00:00Z",
        "2026-12-01T21:00:00Z",
    )
    today = await http.get(f"{API}/supervisor/sla/stats", headers=supervisor)
    assert today.status_code == 200, today.text
    started = datetime.fromisoformat(today.json()["from"])
    assert started.astimezone(ZoneInfo("Europe/Moscow")).time() == time(0)
    assert datetime.fromisoformat(today.json()["to"]) - started == timedelta(days=1)
    exact = await http.get(
        f"{API}/supervisor/sla/stats?from=2026-12-01T09:00:00%2B03:00", headers=supervisor
    )
    assert exact.json()["from"] == "2026-12-01T06:00:00Z"
    wrong = await http.get(f"{API}/supervisor/sla/stats?from=yesterday", headers=supervisor)
    assert [e["field"] for e in assert_problem(wrong, 422)["errors"]] == ["from"]
