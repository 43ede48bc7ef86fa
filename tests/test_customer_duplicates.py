"""Likely duplicates: found by similarity of name and contacts among the profiles sharing a
blocking key, with the score and the fields that matched; never a profile the caller may
not see; answered on registration as `possible_duplicates`."""

from __future__ import annotations

import random
import uuid

from caseflow.customers.matching import Matching, Profile, keys, likely, score

API = "/api/v1"
RULES = Matching()


def test_one_company_written_two_ways_is_likely_one() -> None:
    a = Profile("a", "ООО «Ромашка»", ["+74957001020"], ["info@romashka.ru"])
    b = Profile("b", "Romashka LLC", ["+74957001021"], ["office@romashka.ru"])
    assert keys(a) & keys(b)  # compared at all: they share a key
    found = score(RULES, a, b)
    assert found.score >= RULES.listed_from
    assert found.matched["name"] == 100 and "phone" in found.matched


def test_a_person_with_the_middle_name_and_a_digit_off_is_likely_one() -> None:
    a = Profile("a", "Юрий Иванов", ["+79161234567"])
    b = Profile("b", "Иванов Юрий Алексеевич", ["+79161234568"])
    assert [c.id for c in likely(RULES, a, [b])] == ["b"]


def test_namesakes_with_other_numbers_are_listed_on_the_name_alone_and_strangers_not() -> None:
    a = Profile("a", "Иван Петров", ["+79031112233"])
    others = [
        Profile("b", "Иван Сидоров", ["+79035556677"]),
        Profile("c", "ООО «Вектор»", ["+79031112234"]),
        Profile("d", "Петров Иван", ["+79990000000"]),
    ]
    assert [(c.id, sorted(c.matched)) for c in likely(RULES, a, others)] == [("d", ["name"])]


def phone() -> str:
    return f"+7 916 {random.randrange(10**7):07d}"


async def test_registration_answers_the_likely_duplicates_and_the_list_names_them(
    http, tokens
) -> None:
    word = "Гелиос" + uuid.uuid4().hex[:4]
    number = phone()
    first = await http.post(
        f"{API}/customers",
        json={"kind": "organization", "name": f"ООО «{word}»", "region": "RU-MOW",
              "segment": "b2b_commercial", "phones": [number]},
        headers=tokens["operator"],
    )  # fmt: skip
    assert first.status_code == 201, first.text
    assert first.json()["possible_duplicates"] == []
    near = number[:-1] + str((int(number[-1]) + 1) % 10)  # one digit off: no key says so
    second = await http.post(
        f"{API}/customers",
        json={"kind": "organization", "name": f"{word} LLC", "region": "RU-MOW",
              "segment": "b2b_commercial", "phones": [near]},
        headers=tokens["operator"],
    )  # fmt: skip
    assert second.status_code == 201, second.text
    possible = second.json()["possible_duplicates"]
    assert [p["customer_id"] for p in possible] == [first.json()["id"]]
    assert possible[0]["matched"]["name"] >= 85 and possible[0]["score"] >= 75
    listed = await http.get(
        f"{API}/customers/{first.json()['id']}/duplicates", headers=tokens["operator"]
    )
    assert [d["customer_id"] for d in listed.json()["items"]] == [second.json()["id"]]


async def test_a_renamed_profile_is_found_under_its_new_name(http, tokens) -> None:
    word = "Оптима" + uuid.uuid4().hex[:4]
    one = (await http.post(
        f"{API}/customers",
        json={"kind": "person", "name": "Пётр Сидоров", "region": "RU-MOW", "segment": "b2c",
              "phones": [phone()]},
        headers=tokens["operator"],
    )).json()  # fmt: skip
    other = (await http.post(
        f"{API}/customers",
        json={"kind": "person", "name": f"Анна {word}", "region": "RU-MOW", "segment": "b2c",
              "phones": [phone()]},
        headers=tokens["operator"],
    )).json()  # fmt: skip
    url = f"{API}/customers/{one['id']}/duplicates"
    assert other["id"] not in {
        d["customer_id"] for d in (await http.get(url, headers=tokens["operator"])).json()["items"]
    }
    await http.patch(
        f"{API}/customers/{one['id']}", json={"name": f"Анна {word}"}, headers=tokens["operator"]
    )
    found = (await http.get(url, headers=tokens["operator"])).json()["items"]
    assert other["id"] in {d["customer_id"] for d in found}


async def test_a_manager_is_not_shown_a_duplicate_they_may_not_see(http, tokens) -> None:
    word = "Бриз" + uuid.uuid4().hex[:4]
    theirs = await http.post(
        f"{API}/customers",
        json={"kind": "organization", "name": f"ООО «{word}»", "region": "RU-MOW",
              "segment": "b2b_commercial", "phones": [phone()]},
        headers=tokens["manager-b"],
    )  # fmt: skip
    assert theirs.status_code == 201
    mine = await http.post(
        f"{API}/customers",
        json={"kind": "organization", "name": f"{word} LLC", "region": "RU-MOW",
              "segment": "b2b_commercial", "phones": [phone()]},
        headers=tokens["manager"],
    )  # fmt: skip
    assert mine.status_code == 201, mine.text
    assert mine.json()["possible_duplicates"] == []  # manager-b's customer is not theirs to see
    seen_by_admin = await http.get(
        f"{API}/customers/{mine.json()['id']}/duplicates", headers=tokens["admin"]
    )
    assert [d["customer_id"] for d in seen_by_admin.json()["items"]] == [theirs.json()["id"]]
