"""The OpenAPI document's examples: every main operation has a body and an answer example,
the answers fit the operations' models, and the bodies work as they are on a freshly seeded
API (what `make run` starts with)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from api.app import create_app
from api.examples import ACTIONS, ANSWERS, BODIES, CUSTOMER, DEAL, REQUEST
from api.openapi import document
from api.pagination import Page
from api.request_views import RequestOut
from api.routes.customers import CustomerOut
from api.routes.deals import DealOut

API = "/api/v1"


def operations() -> dict[str, dict[str, Any]]:
    spec = document(create_app())
    return {
        op["operationId"]: op
        for methods in spec["paths"].values()
        for op in methods.values()
        if "operationId" in op
    }


def test_main_operations_have_a_body_and_an_answer_example() -> None:
    found = operations()
    for name, body in BODIES.items():
        content = found[name].get("requestBody", {}).get("content", {})
        if content:  # an action without a body (start, close) has no example to show
            assert content["application/json"]["example"] == body, name
    for name, (status, answer) in ANSWERS.items():
        media = found[name]["responses"][str(status)]["content"]["application/json"]
        assert media["example"] == answer, name


MODELS: dict[str, type[BaseModel]] = {
    "create_customer": CustomerOut,
    "get_customer": CustomerOut,
    "list_customers": Page[CustomerOut],
    "register_request": RequestOut,
    "get_request": RequestOut,
    "list_requests": Page[RequestOut],
    "request_take": RequestOut,
    "create_deal": DealOut,
    "get_deal": DealOut,
}


def test_answer_examples_fit_their_models() -> None:
    assert set(MODELS) == set(ANSWERS)
    for name, (_, answer) in ANSWERS.items():
        # Raises, naming the field, if an example no longer fits what the API answers.
        shown = MODELS[name].model_validate(answer).model_dump(mode="json", exclude_unset=True)
        assert shown == answer, name


async def test_the_body_examples_work_on_a_fresh_api(http, tokens) -> None:
    made = await http.post(f"{API}/customers", json=CUSTOMER, headers=tokens["operator"])
    assert made.status_code == 201, made.text
    deal = await http.post(f"{API}/deals", json=DEAL, headers=tokens["manager"])
    assert deal.status_code == 201, deal.text

    async def act(rid: str, name: str, who: str) -> dict:
        answer = await http.post(
            f"{API}/requests/{rid}/{name}", json=ACTIONS[name], headers=tokens[who]
        )
        assert answer.status_code == 200, (name, who, answer.text)
        return answer.json()

    created = await http.post(f"{API}/requests", json=REQUEST, headers=tokens["operator"])
    assert created.status_code == 201, created.text
    rid, holder = created.json()["id"], created.json()["assignee"]
    for name in ("start", "comment", "request-info", "customer-reply"):
        await act(rid, name, holder)
    on_l2 = await act(rid, "escalate", holder)
    await act(rid, "return", on_l2["assignee"])
    await act(rid, "set-priority", "supervisor")
    moved = await act(rid, "reassign", "supervisor")
    holder = moved["assignee"]
    for name in ("start", "resolve", "reopen", "resolve", "close"):
        await act(rid, name, holder)

    other = await http.post(f"{API}/requests", json=REQUEST, headers=tokens["operator"])
    assert other.status_code == 201, other.text
    await act(other.json()["id"], "cancel", other.json()["assignee"])
