"""Products held, segments over them and over interactions, and the next best offers with
their reasons — suppressed after a complaint, with a fraud flag, without marketing consent,
when declined lately or held already."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from caseflow.customers.segments import load
from caseflow.platform.yamlsource import SourceErrors

API = "/api/v1"
FUEL = {"type": "fuel_card", "name": "Топливная карта №1", "opened_on": "2025-03-01"}


def phone() -> str:
    return f"+7 916 {random.randrange(10**7):07d}"


async def company(http, tokens, by: str = "operator", **extra) -> str:
    body = {
        "kind": "organization",
        "name": f"ООО «Автопарк {uuid.uuid4().hex[:5]}»",
        "region": "RU-MOW",
        "segment": "b2b_commercial",
        "phones": [phone()],
        **extra,
    }
    answer = await http.post(f"{API}/customers", json=body, headers=tokens[by])
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def consenting(http, tokens, customer_id: str) -> None:
    answer = await http.post(
        f"{API}/customers/{customer_id}/consents",
        json={"channel": "phone", "purpose": "marketing", "granted": True},
        headers=tokens["operator"],
    )
    assert answer.status_code == 201, answer.text


async def offers_of(http, tokens, customer_id: str) -> dict:
    answer = await http.get(f"{API}/customers/{customer_id}/offers", headers=tokens["operator"])
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def suppressed(shown: dict, code: str) -> list[str]:
    return next((o["suppressed_because"] for o in shown["suppressed"] if o["code"] == code), [])


async def test_fuel_cards_without_telematics_are_offered_telematics_with_the_reason(
    http, tokens
) -> None:
    customer = await company(http, tokens)
    assert (await offers_of(http, tokens, customer)) == {"offers": [], "suppressed": []}
    added = await http.post(
        f"{API}/customers/{customer}/products", json=FUEL, headers=tokens["operator"]
    )
    assert added.status_code == 201, added.text
    assert added.json()["source"] == "call_centre"
    timeline = await http.get(
        f"{API}/customers/{customer}/interactions", headers=tokens["operator"]
    )
    held = [i for i in timeline.json()["items"] if i["kind"] == "product"]
    assert [(i["category"], i["status"], i["comment"]) for i in held] == [
        ("fuel_card", "open", FUEL["name"])
    ]
    shown = await offers_of(http, tokens, customer)
    assert shown["offers"] == []  # no marketing consent yet
    assert suppressed(shown, "telematics") == ["no marketing consent"]
    await consenting(http, tokens, customer)
    shown = await offers_of(http, tokens, customer)
    assert [o["code"] for o in shown["offers"]] == ["telematics"]
    assert "телематики" in shown["offers"][0]["reason"]

    # Declined: not offered again for 60 days, and the answer is in the timeline.
    answer = await http.post(
        f"{API}/customers/{customer}/offers/telematics/outcome",
        json={"outcome": "declined", "comment": "Пока нет бюджета"},
        headers=tokens["operator"],
    )
    assert answer.status_code == 201, answer.text
    assert suppressed(await offers_of(http, tokens, customer), "telematics") == [
        "declined within 60 days"
    ]
    timeline = await http.get(
        f"{API}/customers/{customer}/interactions", headers=tokens["operator"]
    )
    assert any(
        "Телематика для автопарка: declined" in i["comment"] for i in timeline.json()["items"]
    )


async def test_telematics_held_or_a_fraud_flag_suppress_it(http, tokens) -> None:
    held = await company(http, tokens)
    await consenting(http, tokens, held)
    for product in (FUEL, {**FUEL, "type": "telematics", "name": "Телематика"}):
        await http.post(
            f"{API}/customers/{held}/products", json=product, headers=tokens["operator"]
        )
    assert await offers_of(http, tokens, held) == {"offers": [], "suppressed": []}  # not eligible

    flagged = await company(http, tokens)
    await consenting(http, tokens, flagged)
    await http.post(
        f"{API}/customers/{flagged}/products",
        json={**FUEL, "fraud": True},
        headers=tokens["operator"],
    )
    assert suppressed(await offers_of(http, tokens, flagged), "telematics") == [
        "fraud flag on a product"
    ]


async def test_nobody_is_offered_anything_right_after_a_complaint(http, tokens) -> None:
    customer = await company(http, tokens)
    await consenting(http, tokens, customer)
    await http.post(f"{API}/customers/{customer}/products", json=FUEL, headers=tokens["operator"])
    complaint = await http.post(
        f"{API}/requests",
        json={"customer_id": customer, "channel": "phone", "topic": "complaint",
              "subject": "Жалоба", "description": "Карта не работала на АЗС"},
        headers=tokens["operator"],
    )  # fmt: skip
    assert complaint.status_code == 201, complaint.text
    assert suppressed(await offers_of(http, tokens, customer), "telematics") == [
        "an open complaint"
    ]


async def test_a_billing_question_without_deferred_payment_makes_the_credit_offer(
    http, tokens
) -> None:
    customer = await company(http, tokens)
    await consenting(http, tokens, customer)
    asked = await http.post(
        f"{API}/requests",
        json={"customer_id": customer, "channel": "phone", "topic": "billing",
              "subject": "Счёт", "description": "Когда платить за топливо?"},
        headers=tokens["operator"],
    )  # fmt: skip
    assert asked.status_code == 201, asked.text
    shown = await offers_of(http, tokens, customer)
    assert [o["code"] for o in shown["offers"]] == ["deferred_payment"]
    members = await http.get(
        f"{API}/segments/billing_questions_without_credit/customers?limit=200",
        headers=tokens["operator"],
    )
    assert members.status_code == 200, members.text
    assert customer in {c["id"] for c in members.json()["items"]}
    assert members.json()["total"] >= 1
    closed = {"type": "deferred_payment", "name": "Отсрочка 30 дней",
              "opened_on": (datetime.now(UTC) - timedelta(days=90)).date().isoformat()}  # fmt: skip
    await http.post(f"{API}/customers/{customer}/products", json=closed, headers=tokens["operator"])
    assert (await offers_of(http, tokens, customer))["offers"] == []  # holds it now
    gone = await http.get(
        f"{API}/segments/billing_questions_without_credit/customers?limit=200",
        headers=tokens["operator"],
    )
    assert customer not in {c["id"] for c in gone.json()["items"]}


async def test_bad_products_and_unknown_offers_are_refused(http, tokens) -> None:
    customer = await company(http, tokens)
    url = f"{API}/customers/{customer}/products"
    late = {**FUEL, "closed_on": "2025-01-01"}
    refused = await http.post(url, json=late, headers=tokens["operator"])
    assert refused.status_code == 422 and "closed_on" in refused.text
    unknown = await http.post(
        f"{API}/customers/{customer}/offers/yacht/outcome",
        json={"outcome": "accepted"},
        headers=tokens["operator"],
    )
    assert unknown.status_code == 404
    missing = await http.get(f"{API}/segments/nope/customers", headers=tokens["operator"])
    assert missing.status_code == 404


def test_an_offer_for_a_segment_that_does_not_exist_is_refused_at_start(tmp_path: Path) -> None:
    (tmp_path / "segments.yaml").write_text(
        "segments:\n  - code: a\n    title: A\n    when: {holds: fuel_card}\n"
    )
    (tmp_path / "offers.yaml").write_text(
        "offers:\n  - code: x\n    title: X\n    product: p\n    segment: b\n    reason: r\n"
    )
    with pytest.raises(SourceErrors) as refused:
        load(tmp_path)
    error = refused.value.errors[0]
    assert (error.file, error.line) == ("offers.yaml", 5) and "no segment 'b'" in error.reason


async def test_a_billing_question_gives_the_manager_the_offer_once_per_period(
    http, tokens, dev_env
) -> None:
    """The trigger: a client of the manager's asks about a bill and has no deferred payment
    — the manager gets the offer as a deal with its first task, once however often they
    ask; a customer the offer is not for now gets nothing."""
    customer = await company(http, tokens, "admin", account_manager="manager")
    await consenting(http, tokens, customer)
    bare = await company(http, tokens, "admin", account_manager="manager")  # no marketing consent

    async def billing(customer_id: str) -> None:
        answer = await http.post(
            f"{API}/requests",
            json={"customer_id": customer_id, "channel": "phone", "topic": "billing",
                  "subject": "Счёт", "description": "Когда платить?"},
            headers=tokens["operator"],
        )  # fmt: skip
        assert answer.status_code == 201, answer.text

    for _ in range(2):
        await billing(customer)
    await billing(bare)

    async def offered(customer_id: str) -> list[dict]:
        deals = await http.get(f"{API}/deals?limit=200", headers=tokens["manager"])
        return [
            d for d in deals.json()["items"]
            if d["customer_id"] == customer_id and d["title"].startswith("Предложение")
        ]  # fmt: skip

    for _ in range(100):
        if await offered(customer):
            break
        await asyncio.sleep(0.1)
    (deal,) = await offered(customer)
    assert deal["title"] == "Предложение: Отсрочка платежа" and deal["owner"] == "manager"
    assert deal["fields"]["offer"] == "deferred_payment"
    assert [t["assignee"] for t in deal["tasks"]] == ["manager"]
    await asyncio.sleep(1)  # the second request's trigger had its chance: still one deal
    assert len(await offered(customer)) == 1
    assert await offered(bare) == []
