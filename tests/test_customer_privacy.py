"""Consent per channel and purpose; a person's data exported and erased on request, by an
admin only, refused while a case of theirs is open, keeping the statistics of their cases."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from caseflow.customers import consent
from caseflow.models import AuditEntry, SlaClock

API = "/api/v1"


def phone() -> str:
    return f"+7 916 {random.randrange(10**7):07d}"


async def person(http, tokens) -> dict:
    body = {"kind": "person", "name": "Мария Приватова", "region": "RU-MOW", "segment": "b2c",
            "phones": [phone()], "emails": [f"p-{uuid.uuid4().hex[:8]}@example.org"],
            "address_name": "Мария Ивановна"}  # fmt: skip
    answer = await http.post(f"{API}/customers", json=body, headers=tokens["operator"])
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def test_the_newest_consent_is_in_force_and_marketing_needs_one(
    http, tokens, sessions
) -> None:
    customer = await person(http, tokens)
    url = f"{API}/customers/{customer['id']}/consents"
    now = datetime.now(UTC)
    given = await http.post(
        url,
        json={"channel": "email", "purpose": "marketing", "granted": True,
              "captured_at": (now - timedelta(days=3)).isoformat()},
        headers=tokens["operator"],
    )  # fmt: skip
    assert given.status_code == 201, given.text
    async with sessions() as db:
        assert await consent.allows(db, customer["id"], "marketing", now, "email")
        assert not await consent.allows(db, customer["id"], "marketing", now, "sms")
        assert await consent.allows(db, customer["id"], "service", now, "sms")  # always
    withdrawn = await http.post(
        url, json={"channel": "email", "purpose": "marketing", "granted": False},
        headers=tokens["operator"],
    )  # fmt: skip
    shown = withdrawn.json()
    assert [(c["channel"], c["granted"], c["source"]) for c in shown["in_force"]] == [
        ("email", False, "call_centre")
    ]
    assert [c["granted"] for c in shown["statements"]] == [True, False]
    async with sessions() as db:
        assert not await consent.allows(db, customer["id"], "marketing", now, "email")
    expired = await http.post(
        url,
        json={"channel": "sms", "purpose": "marketing", "granted": True,
              "captured_at": (now - timedelta(days=400)).isoformat(),
              "valid_until": (now - timedelta(days=35)).isoformat()},
        headers=tokens["operator"],
    )  # fmt: skip
    sms = next(c for c in expired.json()["in_force"] if c["channel"] == "sms")
    assert sms["granted"] and sms["expired"]
    async with sessions() as db:
        assert not await consent.allows(db, customer["id"], "marketing", now, "sms")


async def test_a_bad_consent_is_refused_naming_the_field(http, tokens) -> None:
    customer = await person(http, tokens)
    url = f"{API}/customers/{customer['id']}/consents"
    for body, field in (
        ({"channel": "pigeon", "purpose": "marketing", "granted": True}, "channel"),
        (
            {
                "channel": "sms",
                "purpose": "marketing",
                "granted": True,
                "captured_at": "2026-01-01T10:00:00",
            },
            "captured_at",
        ),
        (
            {
                "channel": "sms",
                "purpose": "marketing",
                "granted": True,
                "captured_at": "2099-01-01T10:00:00Z",
            },
            "captured_at",
        ),
    ):
        answer = await http.post(url, json=body, headers=tokens["operator"])
        assert answer.status_code == 422, answer.text
        assert field in answer.text


async def test_an_admin_exports_everything_held_about_a_person(http, tokens) -> None:
    customer = await person(http, tokens)
    url = f"{API}/customers/{customer['id']}"
    await http.patch(url, json={"address_name": "Маша"}, headers=tokens["operator"])
    await http.post(
        f"{url}/consents", json={"channel": "email", "purpose": "service", "granted": True},
        headers=tokens["operator"],
    )  # fmt: skip
    request = await http.post(
        f"{API}/requests",
        json={"customer_id": customer["id"], "channel": "phone", "topic": "consultation",
              "subject": "Выписка", "description": "Нужна выписка за май"},
        headers=tokens["operator"],
    )  # fmt: skip
    assert (await http.get(f"{url}/export", headers=tokens["supervisor"])).status_code == 403
    exported = await http.get(f"{url}/export", headers=tokens["admin"])
    assert exported.status_code == 200, exported.text
    data = exported.json()
    assert data["profile"]["name"] == "Мария Приватова"
    assert {c["value"] for c in data["contacts"]} == set(customer["phones"] + customer["emails"])
    assert [(h["field"], h["after"]) for h in data["history"]] == [("address_name", "Маша")]
    assert {s["source"] for s in data["sources"]} == {"call_centre"}
    assert [r["number"] for r in data["requests"]] == [request.json()["number"]]
    assert data["consents"][0]["purpose"] == "service"


async def test_anonymising_erases_the_person_and_keeps_the_statistics(
    http, tokens, sessions, caseflow_app
) -> None:
    customer = await person(http, tokens)
    url = f"{API}/customers/{customer['id']}"
    created = await http.post(
        f"{API}/requests",
        json={"customer_id": customer["id"], "channel": "phone", "topic": "consultation",
              "subject": "Личный вопрос", "description": "Паспорт 4510 123456"},
        headers=tokens["operator"],
    )  # fmt: skip
    case = created.json()
    refused = await http.post(f"{url}/anonymise", headers=tokens["admin"])
    assert refused.status_code == 409 and refused.json()["open_requests"] == 1
    assert (await http.post(f"{url}/anonymise", headers=tokens["supervisor"])).status_code == 403
    actor = case["assignee"] if case["assignee"] in tokens else "operator"
    steps: list[tuple[str, dict]] = [] if case["assignee"] == actor else [("take", {})]
    steps += [("start", {}), ("resolve", {"resolution": "Ответили"}), ("close", {})]
    for action, body in steps:
        answer = await http.post(
            f"{API}/requests/{case['id']}/{action}", json=body, headers=tokens[actor]
        )
        assert answer.status_code == 200, (action, answer.text)

    erased = await http.post(f"{url}/anonymise", headers=tokens["admin"])
    assert erased.status_code == 200, erased.text
    assert erased.json()["erased"]["contacts"] == 2
    shown = (await http.get(url, headers=tokens["admin"])).json()
    assert "Мария" not in shown["name"] and shown["phones"] == [] and shown["emails"] == []
    assert shown["address_name"] is None
    found = await http.get(
        f"{API}/customers?phone={customer['phones'][0]}", headers=tokens["admin"]
    )
    assert found.json()["items"] == []
    request = (await http.get(f"{API}/requests/{case['id']}", headers=tokens["admin"])).json()
    assert "Паспорт" not in str(request) and request["state"] == "closed"
    assert request["topic"] == "consultation"  # the statistics stay
    await caseflow_app.state.caseflow.audit.flush()
    async with sessions() as db:
        clocks = list(await db.scalars(select(SlaClock).where(SlaClock.request_id == case["id"])))
        assert clocks  # SLA figures of the case are kept
        trail = await db.scalar(
            select(AuditEntry).where(
                AuditEntry.route == "/api/v1/customers/{customer_id}/anonymise",
                AuditEntry.record_id == customer["id"],
                AuditEntry.actor == "admin",
            )
        )
    assert trail is not None  # and the erasure itself is in the audit trail
    again = await http.post(f"{url}/anonymise", headers=tokens["admin"])
    assert again.status_code == 409
