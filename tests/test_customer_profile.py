"""One customer profile from its sources: survivorship per strategy, `PATCH /customers/{id}`
as the caller's source, the explanation of each field, the history of changes, and every
refusal naming its field."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from caseflow.customers.survivorship import (
    Fact,
    FieldRule,
    Survivorship,
    decide,
    load,
)
from caseflow.platform.yamlsource import SourceErrors
from cli.demo import DEMO_NAMESPACE

API = "/api/v1"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_source_priority_takes_the_first_listed_source_that_holds_a_value() -> None:
    rule = FieldRule(
        fields=["name"], strategy="source_priority", sources=["contract_system", "import:*"]
    )
    facts = [
        Fact("web_form", "Pupsik78", at(30)),
        Fact("import:crm", "ИВАНОВ Ю. А.", at(10)),
        Fact("contract_system", None, at(40)),  # took its statement back: not a value
        Fact("call_centre", "Юрий Иванов", at(20)),
    ]
    outcome = decide(rule, "name", facts)
    assert outcome.value == "ИВАНОВ Ю. А." and outcome.won[0].source == "import:crm"
    # The sources the list does not name come after it, the newest first.
    assert [f.source for f in outcome.lost] == ["web_form", "call_centre"]
    facts.append(Fact("contract_system", "Иванов Юрий Алексеевич", at(50)))
    assert decide(rule, "name", facts).value == "Иванов Юрий Алексеевич"


def test_most_recent_and_most_complete() -> None:
    facts = [Fact("call_centre", "Юрий", at(10)), Fact("web_form", "Юра", at(20))]
    assert decide(FieldRule(fields=["address_name"], strategy="most_recent"), "x", facts).value == (
        "Юра"
    )
    complete = FieldRule(fields=["address_name"], strategy="most_complete")
    facts.append(Fact("email", "Юрий Алексеевич", at(5)))
    assert decide(complete, "address_name", facts).value == "Юрий Алексеевич"


def test_union_keeps_every_phone_with_its_source_the_primary_first() -> None:
    rule = FieldRule(fields=["phones"], strategy="union", sources=["call_centre"])
    facts = [
        Fact("web_form", ["+79160000002", "+79160000001"], at(30)),
        Fact("call_centre", ["+79160000001"], at(10)),
    ]
    outcome = decide(rule, "phones", facts)
    assert outcome.value == ["+79160000001", "+79160000002"]
    assert [(f.value, f.source) for f in outcome.won] == [
        ("+79160000001", "call_centre"),
        ("+79160000002", "web_form"),
    ]


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("sources: [call_centre]\nrules:\n  - fields: [name]\n    strategy: union\n", 3, "union"),
        ("sources: [call_centre]\nrules:\n  - fields: [nmae]\n    strategy: most_recent\n", 3,
         "unknown field"),
        ("sources: [call_centre]\nrules:\n  - fields: [inn]\n    strategy: source_priority\n"
         "    sources: [contract_system]\n", 5, "not among sources"),
    ],
)  # fmt: skip
def test_a_bad_rules_file_is_refused_with_file_line_and_reason(
    tmp_path: Path, text: str, line: int, reason: str
) -> None:
    path = tmp_path / "survivorship.yaml"
    path.write_text(text)
    with pytest.raises(SourceErrors) as refused:
        load(path)
    error = refused.value.errors[0]
    assert error.file.endswith("survivorship.yaml") and error.line == line
    assert reason in error.reason


def test_the_shipped_rules_load() -> None:
    rules = load(Path("routing_rules/profile/survivorship.yaml"))
    assert isinstance(rules, Survivorship)
    assert rules.declares("import:crm") and rules.declares("api:crm-bridge")
    assert not rules.declares("rumour")


def phone() -> str:
    return f"+7 916 {random.randrange(10**7):07d}"


async def person(http, tokens, **extra) -> dict:
    body = {
        "kind": "person", "name": "Юрий Иванов", "region": "RU-MOW", "segment": "b2c",
        "phones": [phone()], "emails": [f"y-{uuid.uuid4().hex[:8]}@example.org"], **extra,
    }  # fmt: skip
    answer = await http.post(f"{API}/customers", json=body, headers=tokens["operator"])
    assert answer.status_code == 201, answer.text
    created = dict(answer.json())
    del created["possible_duplicates"]  # the profile as GET shows it
    return created


@pytest.fixture(scope="module")
async def gateway(http, sessions) -> dict[str, str]:
    """An integration account (a web form, a contract system) with its token."""
    from caseflow.people.store import upsert_user
    from caseflow.requests.lifecycle import Role

    async with sessions() as db:
        await upsert_user(db, username="web-gateway", role=Role.INTEGRATION, password="demo")
        await db.commit()
    answer = await http.post(
        f"{API}/auth/token", data={"username": "web-gateway", "password": "demo"}
    )
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def test_a_web_form_does_not_overwrite_what_the_call_centre_checked(
    http, tokens, gateway
) -> None:
    """A web form's "Pupsik78" and Yuri Ivanov on the phone: one profile, the call
    centre's name stands, the web form's new phone joins, and the answer says why."""
    customer = await person(http, tokens)
    url = f"{API}/customers/{customer['id']}"
    extra = phone()
    answer = await http.patch(
        url + "?source=web_form",
        json={"name": "Pupsik78", "phones": [extra], "address_name": "Юрий Алексеевич"},
        headers=gateway,
    )
    assert answer.status_code == 200, answer.text
    shown = answer.json()
    assert shown["name"] == "Юрий Иванов"
    assert shown["phones"] == [customer["phones"][0], extra.replace(" ", "")]
    assert shown["address_name"] == "Юрий Алексеевич"  # the only statement of it
    name = shown["explain"]["name"]
    assert name["source"] == "call_centre" and name["value"] == "Юрий Иванов"
    assert [(lost["source"], lost["value"]) for lost in name["lost"]] == [("web_form", "Pupsik78")]
    phones = shown["explain"]["phones"]["sources"]
    assert [p["source"] for p in phones] == ["call_centre", "web_form"]
    again = await http.get(url + "?explain=true", headers=tokens["operator"])
    assert again.json()["explain"] == shown["explain"]
    assert "explain" not in (await http.get(url, headers=tokens["operator"])).json()

    # The contract system is trusted above the call centre: its name wins, the rest stays.
    contract = await http.patch(
        url + "?source=contract_system", json={"name": "Иванов Юрий Алексеевич"}, headers=gateway
    )
    assert contract.json()["name"] == "Иванов Юрий Алексеевич"
    history = (await http.get(url + "/history", headers=tokens["operator"])).json()["items"]
    assert [(h["field"], h["before"], h["after"], h["source"], h["by"]) for h in history] == [
        ("phones", customer["phones"], shown["phones"], "web_form", "web-gateway"),
        ("address_name", None, "Юрий Алексеевич", "web_form", "web-gateway"),
        ("name", "Юрий Иванов", "Иванов Юрий Алексеевич", "contract_system", "web-gateway"),
    ]


async def test_an_operator_corrects_the_profile_as_the_call_centre(http, tokens) -> None:
    customer = await person(http, tokens)
    url = f"{API}/customers/{customer['id']}"
    fixed = await http.patch(url, json={"name": "Юрий Петров"}, headers=tokens["operator"])
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["name"] == "Юрий Петров"
    assert fixed.json()["explain"]["name"]["source"] == "call_centre"
    found = await http.get(f"{API}/customers?q=петров", headers=tokens["operator"])
    assert customer["id"] in {c["id"] for c in found.json()["items"]}


async def test_a_company_gets_the_inn_its_contract_needs(http, tokens) -> None:
    """A company registered without an INN could never pass a deal's contract stage."""
    body = {"kind": "organization", "name": f"ООО «Без ИНН {uuid.uuid4().hex[:5]}»",
            "region": "RU-MOW", "segment": "b2b_commercial", "phones": [phone()]}  # fmt: skip
    created = await http.post(f"{API}/customers", json=body, headers=tokens["manager"])
    url = f"{API}/customers/{created.json()['id']}"
    inn = valid_inn()
    answer = await http.patch(url, json={"inn": inn, "kpp": "773601001"}, headers=tokens["manager"])
    assert answer.status_code == 200, answer.text
    assert (answer.json()["inn"], answer.json()["kpp"]) == (inn, "773601001")
    assert answer.json()["explain"]["inn"]["source"] == "deal"
    twin = dict(body, phones=[phone()], inn=inn, kpp="773601001")
    refused = await http.post(f"{API}/customers", json=twin, headers=tokens["manager"])
    assert refused.status_code == 409 and refused.json()["matched_on"] == "inn_kpp"


def valid_inn() -> str:
    """A ten-digit organisation INN with its check digit."""
    while True:
        digits = [random.randrange(10) for _ in range(9)]
        check = sum(w * d for w, d in zip((2, 4, 10, 3, 5, 9, 4, 6, 8), digits, strict=True))
        digits.append(check % 11 % 10)
        if digits[0]:
            return "".join(map(str, digits))


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"inn": "1234567890"}, "inn", 422),
        ({"kind": "organization"}, "kind", 422),
        ({"favourite_colour": "blue"}, "favourite_colour", 422),
        ({"name": None}, "name", 422),
        ({"emails": ["not an address"]}, "emails", 422),
        ({}, "body", 422),
        ({"tier": "gold"}, "tier", 422),
        ({"personal_manager": "agent2-vip"}, "personal_manager", 403),
    ],
)
async def test_a_bad_statement_is_refused_naming_the_field_and_nothing_changes(
    http, tokens, body, field, status
) -> None:
    customer = await person(http, tokens)
    url = f"{API}/customers/{customer['id']}"
    answer = await http.patch(url, json=body, headers=tokens["operator"])
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in {e["field"].split(".")[-1] for e in answer.json().get("errors", [])} | {
        answer.json()["detail"].split(":")[0]
    }, answer.json()
    after = (await http.get(url, headers=tokens["operator"])).json()
    assert after == customer
    assert (await http.get(url + "/history", headers=tokens["operator"])).json()["items"] == []


async def test_anothers_phone_is_refused_as_a_duplicate(http, tokens) -> None:
    first, second = await person(http, tokens), await person(http, tokens)
    answer = await http.patch(
        f"{API}/customers/{second['id']}",
        json={"phones": [*second["phones"], first["phones"][0]]},
        headers=tokens["operator"],
    )
    assert answer.status_code == 409, answer.text
    assert answer.json()["matched_on"] == "phone" and answer.json()["duplicate_of"] == first["id"]


async def test_who_may_write_as_which_source(http, tokens, gateway) -> None:
    customer = await person(http, tokens)
    url = f"{API}/customers/{customer['id']}"
    body = {"address_name": "Юрий"}
    asked = await http.patch(url + "?source=contract_system", json=body, headers=tokens["operator"])
    assert asked.status_code == 403 and asked.json()["errors"][0]["field"] == "source"
    unknown = await http.patch(url + "?source=rumour", json=body, headers=gateway)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "source"
    own = await http.patch(url, json=body, headers=gateway)
    assert own.json()["explain"]["address_name"]["source"] == "api:web-gateway"


async def test_a_profile_from_before_sources_explains_itself_by_its_record(http, tokens) -> None:
    """The demo's company was seeded before sources were kept: its row stands as the
    statement of an unnamed source at its creation, and a change keeps what it held."""
    romashka = str(uuid.uuid5(DEMO_NAMESPACE, "ООО «Ромашка»"))
    url = f"{API}/customers/{romashka}"
    before = (await http.get(url + "?explain=true", headers=tokens["admin"])).json()
    assert before["explain"]["name"]["source"] == "record"
    changed = await http.patch(url, json={"contact_person": "Анна Сергеевна Белова"},
                               headers=tokens["admin"])  # fmt: skip
    assert changed.status_code == 200, changed.text
    kept = {k: v for k, v in changed.json().items() if k not in ("explain", "contact_person")}
    assert kept == {k: v for k, v in before.items() if k not in ("explain", "contact_person")}


async def test_a_won_deal_makes_a_client_that_a_later_change_keeps(http, tokens, sessions) -> None:
    """The deal's word on the status is a fact: recomputing the profile for another change
    does not turn the client back into the prospect the call centre registered."""
    from caseflow.customers.profile import note

    body = {"kind": "organization", "name": f"ООО «Проспект {uuid.uuid4().hex[:5]}»",
            "region": "RU-MOW", "segment": "b2b_commercial", "status": "prospect",
            "phones": [phone()]}  # fmt: skip
    created = (await http.post(f"{API}/customers", json=body, headers=tokens["operator"])).json()
    url = f"{API}/customers/{created['id']}"
    await http.patch(url, json={"contact_person": "Олег"}, headers=tokens["operator"])
    async with sessions() as db:  # what the deals projection does when a deal is won
        from sqlalchemy import update

        from caseflow.models import Customer

        await db.execute(
            update(Customer).where(Customer.id == created["id"]).values(status="client")
        )
        await note(db, created["id"], "deal", "status", "client", datetime.now(UTC))
        await db.commit()
    later = await http.patch(
        url, json={"contact_person": "Олег Петрович"}, headers=tokens["operator"]
    )
    assert later.json()["status"] == "client"
    assert later.json()["explain"]["status"]["source"] == "deal"


async def test_recomputing_after_a_rules_change_resumes_where_it_stopped(
    http, tokens, gateway, sessions
) -> None:
    from caseflow.customers import recompute

    for _ in range(3):  # at least three profiles with facts
        customer = await person(http, tokens)
        url = f"{API}/customers/{customer['id']}"
        await http.patch(url + "?source=web_form", json={"name": "Pupsik78"}, headers=gateway)
    trusting = Survivorship(
        sources=["*"],
        rules=[FieldRule(fields=["name"], strategy="source_priority", sources=["web_form"])],
    )
    first = recompute.run(sessions, trusting, "admin", batch=1, again=True)
    stopped = await anext(first)
    await first.aclose()  # stopped after its first batch
    assert stopped.done == 1
    progress = [p async for p in recompute.run(sessions, trusting, "admin", batch=2)]
    assert progress[0].done == 3  # went on from the second profile
    assert progress[-1].done == progress[-1].total >= 2
    shown = (await http.get(url, headers=tokens["operator"])).json()
    assert shown["name"] == "Pupsik78"
    history = (await http.get(url + "/history", headers=tokens["operator"])).json()["items"]
    assert (history[-1]["field"], history[-1]["source"], history[-1]["reason"]) == (
        "name", "survivorship", "recompute",
    )  # fmt: skip
    # The shipped rules again: the call centre's name is back, for every profile.
    shipped = load(Path("routing_rules/profile/survivorship.yaml"))
    async for _ in recompute.run(sessions, shipped, "admin", again=True):
        pass
    assert (await http.get(url, headers=tokens["operator"])).json()["name"] == "Юрий Иванов"
