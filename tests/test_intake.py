"""Guided intake: topics, identification, authority, required fields, field filtering, and
the customer's timeline."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from caseflow.platform.settings import ROOT
from caseflow.platform.yamlsource import SourceErrors
from caseflow.requests.intake import Authority, check
from caseflow.requests.topics import book_beside
from caseflow.routing import rules as routing

BOOK = book_beside(ROOT / "routing_rules")
TODAY = date(2026, 11, 23)


def run(code: str, proofs: set[str], *, organisation=False, authorities=None, fields=None):
    return check(
        code,
        BOOK.topics[code],
        proofs=proofs,
        fields=fields or {},
        organisation=organisation,
        authorities=authorities,
        today=TODAY,
    )


def test_enough_proofs_identify_a_person_who_may_hear_everything_about_themself() -> None:
    result = run("tariff_change", {"name", "phone_on_file"})
    assert result.identified and result.authorised and result.missing_proofs == []
    assert result.disclosure_allowed == "commercial_confidential"
    assert result.missing_fields == ["contract_number", "wanted_tariff"]
    assert result.resolving_line == "L2"


def test_a_missing_proof_is_named() -> None:
    result = run("card_block", {"name"})
    assert not result.identified and not result.authorised
    assert result.missing_proofs == ["phone_on_file"]  # the nearest set
    assert result.disclosure_allowed == "public"
    assert run("consultation", set()).authorised  # reference questions need nobody proven


def test_representative_without_commercial_authority_is_not_authorised() -> None:
    general = Authority(topics=[], disclosure="customer_confidential", document="дов. 1")
    result = run(
        "contract_change",
        {"name", "code_word"},
        organisation=True,
        authorities=[general],
        fields={"contract_number": "Д-2026/15", "change": "реквизиты"},
    )
    assert result.identified and not result.authorised
    assert result.disclosure_allowed == "customer_confidential"
    assert any("no valid authority" in reason for reason in result.reasons)
    full = Authority(topics=["contract_change"], disclosure="commercial_confidential")
    assert run(
        "contract_change", {"name", "code_word"}, organisation=True, authorities=[general, full]
    ).authorised


def test_expired_authority_is_refused() -> None:
    expired = Authority(
        disclosure="commercial_confidential",
        valid_to=TODAY - timedelta(days=1),
        document="доверенность № 7",
    )
    result = run("prolongation", {"name", "code_word"}, organisation=True, authorities=[expired])
    assert not result.authorised and result.disclosure_allowed == "public"
    assert any("доверенность № 7 not valid on 2026-11-23" in r for r in result.reasons)
    unknown_caller = run("prolongation", {"name", "code_word"}, organisation=True)
    assert not unknown_caller.authorised  # a company's caller must be a representative


def test_fields_are_checked_against_their_types_and_patterns() -> None:
    result = run("card_block", set(), fields={"card_last4": "12a4", "card_balance": "много"})
    assert {(p.field, p.reason.split(":")[0]) for p in result.invalid_fields} == {
        ("card_last4", "does not match ^[0-9]{4}$"),
        ("card_balance", "not a valid number"),
    }


def test_rules_naming_an_unknown_topic_fail_validation() -> None:
    texts = routing.read_texts(ROOT / "routing_rules")
    texts["10-intake.yaml"] = texts["10-intake.yaml"].replace("card_unblock", "card_unblok")
    with pytest.raises(SourceErrors) as failure:
        routing.load_texts(texts, known_topics=BOOK)
    (error,) = failure.value.errors
    assert error.file == "10-intake.yaml" and "unknown topic 'card_unblok'" in error.reason
    assert error.line > 1


# --- over the API ---------------------------------------------------------------------------


async def new_company(http, tokens) -> str:
    body = {
        "kind": "organization",
        "name": f"ООО «Тест {uuid.uuid4().hex[:6]}»",
        "phones": [f"+7495{uuid.uuid4().int % 10**7:07d}"],
        "region": "RU-MOW",
        "segment": "b2b_commercial",
    }
    answer = await http.post("/api/v1/customers", json=body, headers=tokens["operator"])
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def test_topics_are_published(http, tokens) -> None:
    answer = await http.get("/api/v1/topics", headers=tokens["operator"])
    topics = {t["code"]: t for t in answer.json()}
    card = topics["card_block"]
    assert card["required_fields"] == ["card_last4"] and card["importance"] == "critical"
    assert card["resolving_line"] == "L2" and card["hints"]
    assert topics["consultation"]["disclosure"] == "public"


async def test_intake_check_and_registration_follow_authority(http, tokens) -> None:
    company = await new_company(http, tokens)
    person = await http.post(
        f"/api/v1/customers/{company}/representatives",
        json={
            "name": "Пётр Сидоров",
            "phone": "8 (916) 555-12-34",
            "authorities": [{"disclosure": "customer_confidential", "document": "дов. 3"}],
        },
        headers=tokens["operator"],
    )
    assert person.status_code == 201, person.text
    contact = person.json()["id"]
    asked = {"customer_id": company, "contact_id": contact, "topic": "contract_change"}
    wrong_phone = await http.post(
        "/api/v1/intake/check",
        json={**asked, "proofs": ["name", {"kind": "phone_on_file", "value": "+79160000000"}]},
        headers=tokens["operator"],
    )
    assert wrong_phone.status_code == 200, wrong_phone.text
    assert wrong_phone.json()["identified"] is False
    checked = await http.post(
        "/api/v1/intake/check",
        json={**asked, "proofs": ["name", "code_word"]},
        headers=tokens["operator"],
    )
    answer = checked.json()
    assert answer["identified"] is True and answer["authorised"] is False
    assert answer["disclosure_allowed"] == "customer_confidential"
    assert answer["missing_fields"] == ["contract_number", "change"]

    request = {
        "customer_id": company,
        "contact_id": contact,
        "channel": "phone",
        "topic": "contract_change",
        "subject": "Смена реквизитов",
        "description": "Просит изменить реквизиты в договоре",
        "proofs": ["name", "code_word"],
        "fields": {"change": "реквизиты"},
    }
    missing = await http.post("/api/v1/requests", json=request, headers=tokens["operator"])
    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["errors"]] == ["fields.contract_number"]
    request["fields"] = {"contract_number": "Д-2026/15", "change": "реквизиты"} | {
        "contract_value": 1_500_000
    }
    created = await http.post("/api/v1/requests", json=request, headers=tokens["operator"])
    assert created.status_code == 201, created.text
    case = created.json()
    assert case["unidentified"] is True
    assert case["hidden_fields"] == ["contract_value"] and "contract_value" not in case["fields"]
    seen = await http.get(f"/api/v1/requests/{case['id']}", headers=tokens["supervisor"])
    assert seen.json()["fields"]["contract_value"] == 1_500_000


async def test_unknown_topic_and_foreign_contact_are_refused(http, tokens) -> None:
    company = await new_company(http, tokens)
    unknown = await http.post(
        "/api/v1/intake/check",
        json={"customer_id": company, "topic": "astrology"},
        headers=tokens["operator"],
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "topic"
    stranger = await http.post(
        "/api/v1/intake/check",
        json={"customer_id": company, "topic": "consultation", "contact_id": 999999},
        headers=tokens["operator"],
    )
    assert stranger.status_code == 422
    assert stranger.json()["errors"][0]["field"] == "contact_id"
    bad_proof = await http.post(
        "/api/v1/intake/check",
        json={"customer_id": company, "topic": "consultation", "proofs": ["telepathy"]},
        headers=tokens["operator"],
    )
    assert bad_proof.status_code == 422


async def test_timeline_has_requests_changes_emails_and_notes_newest_first(
    http, tokens, mailbox
) -> None:
    email = f"t-{uuid.uuid4().hex[:8]}@example.org"
    customer = (
        await http.post(
            "/api/v1/customers",
            json={
                "kind": "person",
                "name": "Олег Тестов",
                "emails": [email],
                "region": "RU-MOW",
                "segment": "b2c",
            },
            headers=tokens["operator"],
        )
    ).json()["id"]
    body = {
        "customer_id": customer,
        "channel": "chat",
        "topic": "consultation",
        "subject": "Где мой заказ?",
        "description": "…",
    }
    case = (await http.post("/api/v1/requests", json=body, headers=tokens["operator"])).json()
    await mailbox.wait_for(email)
    note = await http.post(
        f"/api/v1/customers/{customer}/interactions",
        json={
            "channel": "phone",
            "comment": "Перезвонил, статус сообщил",
            "request_id": case["id"],
        },
        headers=tokens["operator"],
    )
    assert note.status_code == 201, note.text
    url = f"/api/v1/customers/{customer}/interactions"
    items = (await http.get(url, headers=tokens["operator"])).json()["items"]
    assert items[0]["kind"] == "note"
    assert {i["kind"] for i in items} == {"note", "email", "status", "request"}
    assert [i["time"] for i in items] == sorted((i["time"] for i in items), reverse=True)
    request_item = next(i for i in items if i["kind"] == "request")
    assert request_item["number"] == case["number"] and request_item["status"] == case["state"]
    phone = (await http.get(url, params={"channel": "phone"}, headers=tokens["operator"])).json()
    assert [i["kind"] for i in phone["items"]] == ["note"]
    pages, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await http.get(url, params=params, headers=tokens["operator"])).json()
        pages += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == items
    for bad in ("garbage", "WyJ4Il0"):  # not base64 JSON; a list of the wrong shape
        refused = await http.get(url, params={"cursor": bad}, headers=tokens["operator"])
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "cursor"
    hidden = await http.get(url, headers=tokens["manager"])
    assert hidden.status_code == 404  # not the manager's customer
