"""Merging duplicate profiles and undoing it: everything moves to the survivor and back,
running workflows are told, a request registered during the merge ends on the survivor,
and each refusal says why."""

from __future__ import annotations

import asyncio
import random
import uuid

from workflows.request import RequestWorkflow

API = "/api/v1"


def phone() -> str:
    return f"+7 916 {random.randrange(10**7):07d}"


async def person(http, tokens, name: str) -> dict:
    body = {"kind": "person", "name": name, "region": "RU-MOW", "segment": "b2c",
            "phones": [phone()], "emails": [f"m-{uuid.uuid4().hex[:8]}@example.org"]}  # fmt: skip
    answer = await http.post(f"{API}/customers", json=body, headers=tokens["operator"])
    assert answer.status_code == 201, answer.text
    created = dict(answer.json())
    del created["possible_duplicates"]
    return created


async def request_for(http, tokens, customer_id: str, subject: str = "Вопрос") -> dict:
    answer = await http.post(
        f"{API}/requests",
        json={"customer_id": customer_id, "channel": "phone", "topic": "consultation",
              "subject": subject, "description": "Из теста слияния"},
        headers=tokens["operator"],
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def get(http, tokens, url: str) -> dict:
    answer = await http.get(f"{API}{url}", headers=tokens["supervisor"])
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_a_merge_moves_everything_and_an_unmerge_restores_it_exactly(
    http, tokens, dev_env
) -> None:
    survivor = await person(http, tokens, "Юрий Иванов")
    duplicate = await person(http, tokens, "Иванов Юрий Алексеевич")
    case = await request_for(http, tokens, duplicate["id"])
    note = await http.post(
        f"{API}/customers/{duplicate['id']}/interactions",
        json={"channel": "phone", "category": "call", "comment": "Звонил по счёту"},
        headers=tokens["operator"],
    )
    assert note.status_code == 201, note.text
    before = {
        "survivor": await get(http, tokens, f"/customers/{survivor['id']}?explain=true"),
        "duplicate": await get(http, tokens, f"/customers/{duplicate['id']}?explain=true"),
    }

    merged = await http.post(
        f"{API}/customers/{survivor['id']}/merge",
        json={"duplicates": [duplicate["id"]], "reason": "один человек: звонил с двух номеров"},
        headers=tokens["supervisor"],
    )
    assert merged.status_code == 200, merged.text
    outcome = merged.json()
    assert outcome["status"] == "done" and outcome["survivor"] == survivor["id"]
    assert outcome["moved"]["requests"] == 1 and outcome["moved"]["interactions"] == 1
    assert outcome["told"] == 1  # the open request's workflow

    profile = await get(http, tokens, f"/customers/{survivor['id']}?explain=true")
    assert profile["phones"] == survivor["phones"] + duplicate["phones"]
    assert sorted(profile["emails"]) == sorted(survivor["emails"] + duplicate["emails"])
    assert (await get(http, tokens, f"/requests/{case['id']}"))["customer_id"] == survivor["id"]
    view = await dev_env.client.get_workflow_handle(case["workflow_id"]).query(RequestWorkflow.view)
    assert view.customer_id == survivor["id"]  # the workflow was told
    timeline = await get(http, tokens, f"/customers/{survivor['id']}/interactions?limit=200")
    assert [i["comment"] for i in timeline["items"] if i["kind"] == "note"] == ["Звонил по счёту"]
    gone = await get(http, tokens, f"/customers/{duplicate['id']}")
    assert gone["merged_into"] == survivor["id"]
    listed = await get(http, tokens, f"/customers?phone={duplicate['phones'][0]}")
    assert [c["id"] for c in listed["items"]] == [survivor["id"]]
    later = await request_for(http, tokens, duplicate["id"], "После слияния")
    assert later["customer_id"] == survivor["id"]  # intake for the duplicate goes to the survivor

    undone = await http.post(
        f"{API}/customers/{survivor['id']}/unmerge",
        json={"merge_id": outcome["merge_id"]},
        headers=tokens["supervisor"],
    )
    assert undone.status_code == 200, undone.text
    assert undone.json()["status"] == "undone" and undone.json()["told"] == 1
    after = {
        "survivor": await get(http, tokens, f"/customers/{survivor['id']}?explain=true"),
        "duplicate": await get(http, tokens, f"/customers/{duplicate['id']}?explain=true"),
    }
    for who in ("survivor", "duplicate"):
        assert after[who]["explain"] == before[who]["explain"], who
        assert {k: v for k, v in after[who].items() if k != "merged_into"} == {
            k: v for k, v in before[who].items() if k != "merged_into"
        }, who
    assert after["duplicate"].get("merged_into") is None
    assert (await get(http, tokens, f"/requests/{case['id']}"))["customer_id"] == duplicate["id"]
    view = await dev_env.client.get_workflow_handle(case["workflow_id"]).query(RequestWorkflow.view)
    assert view.customer_id == duplicate["id"]
    # What came to the survivor while merged stays there: it was never the duplicate's.
    assert (await get(http, tokens, f"/requests/{later['id']}"))["customer_id"] == survivor["id"]
    again = await http.post(
        f"{API}/customers/{survivor['id']}/unmerge",
        json={"merge_id": outcome["merge_id"]},
        headers=tokens["supervisor"],
    )
    assert again.status_code == 409


async def test_a_merge_racing_intake_loses_nothing(http, tokens) -> None:
    survivor = await person(http, tokens, "Анна Гонкина")
    duplicate = await person(http, tokens, "Гонкина Анна")
    merge = http.post(
        f"{API}/customers/{survivor['id']}/merge",
        json={"duplicates": [duplicate["id"]], "reason": "дубль"},
        headers=tokens["admin"],
    )
    intakes = [request_for(http, tokens, duplicate["id"], f"Гонка {i}") for i in range(6)]
    done, *cases = await asyncio.gather(merge, *intakes)
    assert done.status_code == 200, done.text
    on_duplicate = await get(http, tokens, f"/requests?customer_id={duplicate['id']}&limit=50")
    assert on_duplicate["items"] == []
    on_survivor = await get(http, tokens, f"/requests?customer_id={survivor['id']}&limit=50")
    assert {c["id"] for c in cases} <= {r["id"] for r in on_survivor["items"]}


async def test_merge_refusals_say_why(http, tokens) -> None:
    one = await person(http, tokens, "Олег Первый")
    two = await person(http, tokens, "Олег Второй")
    url = f"{API}/customers/{one['id']}/merge"
    body = {"duplicates": [two["id"]], "reason": "дубль"}
    assert (await http.post(url, json=body, headers=tokens["operator"])).status_code == 403
    itself = await http.post(url, json={**body, "duplicates": [one["id"]]}, headers=tokens["admin"])
    assert itself.status_code == 422 and itself.json()["errors"][0]["field"] == "duplicates"
    company = await http.post(
        f"{API}/customers",
        json={"kind": "organization", "name": f"ООО «Другое {uuid.uuid4().hex[:4]}»",
              "region": "RU-MOW", "segment": "b2b_commercial", "phones": [phone()]},
        headers=tokens["operator"],
    )  # fmt: skip
    kinds = await http.post(
        url, json={**body, "duplicates": [company.json()["id"]]}, headers=tokens["admin"]
    )
    assert kinds.status_code == 422 and "organization" in kinds.json()["detail"]
    assert (await http.post(url, json=body, headers=tokens["admin"])).status_code == 200
    twice = await http.post(url, json=body, headers=tokens["admin"])
    assert twice.status_code == 409 and twice.json()["code"] == "already_merged"
    unknown = await http.post(
        f"{API}/customers/{one['id']}/unmerge", json={"merge_id": "nope"}, headers=tokens["admin"]
    )
    assert unknown.status_code == 404


async def test_a_duplicate_with_the_inn_the_survivor_lacks_merges_and_unmerges(
    http, tokens
) -> None:
    """The company's INN was only on the duplicate: after the merge the survivor shows it
    (the duplicate's row no longer holds the unique key), after the undo it is the
    duplicate's again."""
    word = uuid.uuid4().hex[:5]
    survivor = await http.post(
        f"{API}/customers",
        json={"kind": "organization", "name": f"ООО «Ключ {word}»", "region": "RU-MOW",
              "segment": "b2b_commercial", "phones": [phone()]},
        headers=tokens["operator"],
    )  # fmt: skip
    duplicate = await http.post(
        f"{API}/customers",
        json={"kind": "organization", "name": f"Ключ {word} LLC", "region": "RU-MOW",
              "segment": "b2b_commercial", "inn": "7707083893",
              "kpp": f"77{random.randrange(10**7):07d}"},
        headers=tokens["operator"],
    )  # fmt: skip
    assert survivor.status_code == duplicate.status_code == 201, duplicate.text
    sid, did = survivor.json()["id"], duplicate.json()["id"]
    merged = await http.post(
        f"{API}/customers/{sid}/merge", json={"duplicates": [did], "reason": "одна компания"},
        headers=tokens["admin"],
    )  # fmt: skip
    assert merged.status_code == 200, merged.text
    shown = await get(http, tokens, f"/customers/{sid}")
    assert (shown["inn"], shown["kpp"]) == ("7707083893", duplicate.json()["kpp"])
    undone = await http.post(
        f"{API}/customers/{sid}/unmerge", json={"merge_id": merged.json()["merge_id"]},
        headers=tokens["admin"],
    )  # fmt: skip
    assert undone.status_code == 200, undone.text
    assert (await get(http, tokens, f"/customers/{sid}"))["inn"] is None
    back = await get(http, tokens, f"/customers/{did}")
    assert (back["inn"], back["kpp"]) == ("7707083893", duplicate.json()["kpp"])
    again = await http.post(
        f"{API}/customers",
        json={"kind": "organization", "name": "Третий", "region": "RU-MOW",
              "segment": "b2b_commercial", "inn": "7707083893", "kpp": back["kpp"]},
        headers=tokens["operator"],
    )  # fmt: skip
    assert again.status_code == 409 and again.json()["duplicate_of"] == did
