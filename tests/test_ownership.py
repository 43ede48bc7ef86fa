"""Who owns a customer is set only by those who hand customers out, and only to people
(or a unit) that can own them: no customer whose personal manager is "E"."""

from __future__ import annotations

import uuid

import pytest

from tests.test_api import assert_problem

API = "/api/v1"


def person(**owners: str) -> dict[str, object]:
    tag = uuid.uuid4().hex[:8]
    return {
        "kind": "person",
        "name": f"Владелец {tag}",
        "emails": [f"owner-{tag}@example.org"],
        "region": "RU-MOW",
        "segment": "b2c",
        **owners,
    }


async def nobody_with(http, tokens, body) -> None:
    found = await http.get(f"{API}/customers?email={body['emails'][0]}", headers=tokens["admin"])
    assert found.json()["items"] == []


@pytest.mark.parametrize(
    ("who", "owners"),
    [
        ("operator", {"personal_manager": "agent2-vip"}),
        ("operator", {"account_manager": "manager"}),
        ("operator", {"contract_unit": "l2-b2b"}),
        ("agent2", {"personal_manager": "agent2"}),
        ("manager", {"account_manager": "manager-b"}),
        ("manager", {"personal_manager": "manager"}),
    ],
)
async def test_who_may_not_hand_out_customers_is_refused(http, tokens, who, owners) -> None:
    body = person(**owners)
    answer = await http.post(f"{API}/customers", json=body, headers=tokens[who])
    problem = assert_problem(answer, 403, "forbidden")
    assert [e["field"] for e in problem["errors"]] == list(owners)
    await nobody_with(http, tokens, body)


@pytest.mark.parametrize(
    "owners",
    [
        {"personal_manager": "E"},
        {"personal_manager": "supervisor"},  # a supervisor is nobody's personal manager
        {"account_manager": "agent2"},  # an account manager is a sales manager
        {"account_manager": "B"},
        {"contract_unit": "nowhere"},
    ],
)
async def test_owners_must_exist_and_be_able_to_own(http, tokens, owners) -> None:
    body = person(**owners)
    answer = await http.post(f"{API}/customers", json=body, headers=tokens["admin"])
    problem = assert_problem(answer, 422, "validation_error")
    assert [e["field"] for e in problem["errors"]] == list(owners)
    await nobody_with(http, tokens, body)


async def test_those_who_hand_out_customers_may(http, tokens) -> None:
    given = {"personal_manager": "agent2-vip", "contract_unit": "l2-b2b"}
    made = await http.post(f"{API}/customers", json=person(**given), headers=tokens["supervisor"])
    assert made.status_code == 201, made.text
    assert {k: made.json()[k] for k in given} == given
    # A sales manager may take a customer themselves.
    mine = await http.post(
        f"{API}/customers", json=person(account_manager="manager"), headers=tokens["manager"]
    )
    assert mine.status_code == 201, mine.text
    assert mine.json()["account_manager"] == "manager"
