"""Customers' e-mails end to end: API → workflow → notifier → SMTP (aiosmtpd), read back."""

from __future__ import annotations

import asyncio
import uuid
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlalchemy import select

from caseflow.models import Notification, SlaClock
from tests.conftest import DIGEST_WINDOW
from tests.mailbox import html_of, text_of


async def new_customer(http, tokens, **fields: object) -> tuple[str, str]:
    email = f"c-{uuid.uuid4().hex[:10]}@example.org"
    body = {
        "kind": "person",
        "name": "Анна Сергеевна Лебедева",
        "emails": [email],
        "region": "RU-MOW",
        "segment": "b2c",
        **fields,
    }
    answer = await http.post("/api/v1/customers", json=body, headers=tokens["operator"])
    assert answer.status_code == 201, answer.text
    return answer.json()["id"], email


async def register(
    http, tokens, customer_id: str, topic: str = "consultation", **extra: object
) -> dict:
    body = {
        "customer_id": customer_id,
        "channel": "phone",
        "topic": topic,
        "subject": "Вопрос <про> тариф",
        "description": "Описание",
        **extra,
    }
    answer = await http.post("/api/v1/requests", json=body, headers=tokens["operator"])
    assert answer.status_code == 201, answer.text
    return answer.json()


async def outbox(sessions, request_id: str) -> list[Notification]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Notification)
            .where(Notification.request_id == request_id)
            .order_by(Notification.created_at)
        )
        return list(rows)


async def test_registered_and_assigned_arrive_as_one_personal_email(
    http, tokens, mailbox, sessions
) -> None:
    customer, email = await new_customer(
        http, tokens, gender="female", address_name="Анна Сергеевна", timezone="Asia/Yekaterinburg"
    )
    created = await register(http, tokens, customer)
    (message,) = await mailbox.wait_for(email)
    assert message["Subject"] == f"Обращение {created['number']}: обновления (2)"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Reply-To"].startswith(f"case+{created['id']}@")
    text = text_of(message)
    assert text.startswith("Уважаемая Анна Сергеевна!")
    assert "зарегистрировали его под номером " + created["number"] in text
    assert "занимается" in text  # the assignment, merged into the same e-mail
    assert "Вопрос <про> тариф" in text
    assert "Вопрос &lt;про&gt; тариф" in html_of(message)
    (row,) = await outbox(sessions, created["id"])
    assert row.status == "sent" and row.message_id == message["Message-ID"]
    assert row.events == ["request_registered", "request_assigned"]
    assert row.batched_at - row.first_notice_at >= DIGEST_WINDOW  # it waited for the digest
    # Each due time is named for what it is: the first answer, and the resolution.
    async with sessions() as session:
        due = {
            c.kind: c.due_at
            for c in await session.scalars(
                select(SlaClock).where(SlaClock.request_id == row.request_id)
            )
        }
    zone = ZoneInfo("Asia/Yekaterinburg")

    def shown(moment):
        return format_datetime(moment.astimezone(zone), "d MMMM y, HH:mm", locale="ru")

    assert due["first_response"] != due["resolution"]
    assert f"Мы ответим не позднее {shown(due['first_response'])}." in text
    assert f"Срок решения: {shown(due['resolution'])}." in text
    assert "Срок ответа" not in text


async def test_critical_topic_is_sent_at_once_in_the_customers_language(
    http, tokens, mailbox, sessions
) -> None:
    customer, email = await new_customer(
        http,
        tokens,
        kind="organization",
        name="Daisy Ltd",
        segment="b2b_commercial",
        locale="en",
        contact_person="Mr Brown",
    )
    created = await register(
        http, tokens, customer, topic="card_block", fields={"card_last4": "1234"}
    )
    # Sent without waiting for the digest window: one e-mail, or two if the assignment
    # came after the first had gone; what was waiting goes along. (Assigned is mailed only
    # if someone with card skills was free to take it.)
    expected = ["request_registered", *(["request_assigned"] if created["assignee"] else [])]
    for _ in range(100):
        rows = await outbox(sessions, created["id"])
        if [e for r in rows for e in r.events] == expected and all(
            r.status == "sent" for r in rows
        ):
            break
        await asyncio.sleep(0.1)
    assert [e for r in rows for e in r.events] == expected
    assert all(r.batched_at - r.first_notice_at < DIGEST_WINDOW for r in rows)
    assert all(r.importance == "critical" for r in rows)
    messages = await mailbox.wait_for(email, count=len(rows))
    texts = "\n".join(text_of(m) for m in messages)
    assert all(text_of(m).startswith("Dear Mr Brown,") for m in messages)
    assert f"We have received your card block request ({created['number']})" in texts


async def test_each_step_is_mailed_once(http, tokens, mailbox, sessions) -> None:
    customer, email = await new_customer(http, tokens, locale="en", address_name="Anna")
    created = await register(http, tokens, customer)
    await mailbox.wait_for(email)
    rid = created["id"]
    mine: list[tuple[str, dict]] = [] if created["assignee"] == "operator" else [("take", {})]
    for action, body in (
        *mine,
        ("start", {}),
        ("request-info", {"message": "Please send the contract number"}),
    ):
        answer = await http.post(
            f"/api/v1/requests/{rid}/{action}", json=body, headers=tokens["operator"]
        )
        assert answer.status_code == 200, answer.text
    messages = await mailbox.wait_for(email, count=2)
    info = messages[1]
    assert info["Subject"] == f"Request {created['number']}: we need something from you"
    assert "Please send the contract number" in text_of(info)
    await mailbox.wait_for(email, count=3, seconds=2 * DIGEST_WINDOW.total_seconds())
    assert len(mailbox.to(email)) == 2  # take and start are not mailed
    assert len({m["Message-ID"] for m in mailbox.to(email)}) == 2


async def act(http, tokens, rid: str, *steps: tuple[str, dict]) -> None:
    for action, body in steps:
        answer = await http.post(
            f"/api/v1/requests/{rid}/{action}", json=body, headers=tokens["operator"]
        )
        assert answer.status_code == 200, answer.text


async def test_two_requests_in_one_window_are_two_emails_each_replying_to_its_case(
    http, tokens, mailbox
) -> None:
    customer, email = await new_customer(http, tokens, locale="en", address_name="Anna")
    first = await register(http, tokens, customer)
    second = await register(http, tokens, customer)
    messages = await mailbox.wait_for(email, count=2)
    by_case = {m["Reply-To"].split("@")[0].removeprefix("case+"): m for m in messages}
    assert set(by_case) == {first["id"], second["id"]}
    for created in (first, second):
        message = by_case[created["id"]]
        assert created["number"] in message["Subject"]
        other = second if created is first else first
        assert other["number"] not in text_of(message)
        listed = await http.get(
            f"/api/v1/requests/{created['id']}/notifications", headers=tokens["operator"]
        )
        assert [n["request_id"] for n in listed.json()["items"]] == [created["id"]]
        assert listed.json()["items"][0]["message_id"] == message["Message-ID"]
    for created in (first, second):
        await act(http, tokens, created["id"], ("cancel", {"reason": "test done"}))


async def test_a_question_overtaken_by_the_answer_is_not_sent(http, tokens, mailbox) -> None:
    customer, email = await new_customer(http, tokens, locale="en", address_name="Anna")
    created = await register(http, tokens, customer)
    await mailbox.wait_for(email)
    rid = created["id"]
    await act(
        http,
        tokens,
        rid,
        *([] if created["assignee"] == "operator" else [("take", {})]),
        ("start", {}),
        ("request-info", {"message": "Please send the contract number"}),
        ("resolve", {"resolution": "Tariff explained"}),
    )
    messages = await mailbox.wait_for(email, count=2)
    assert "resolved" in messages[1]["Subject"]
    assert "contract number" not in text_of(messages[1])
    await asyncio.sleep(2 * DIGEST_WINDOW.total_seconds())
    assert len(mailbox.to(email)) == 2
    listed = await http.get(f"/api/v1/requests/{rid}/notifications", headers=tokens["operator"])
    skipped = [n for n in listed.json()["items"] if n["status"] == "skipped"]
    assert [(n["events"], n["error"]) for n in skipped] == [(["info_requested"], "superseded")]


async def test_the_representative_who_called_is_written_to(http, tokens, mailbox) -> None:
    company, general = await new_customer(
        http,
        tokens,
        kind="organization",
        name=f"ООО «Контакт {uuid.uuid4().hex[:6]}»",
        segment="b2b_commercial",
        contact_person="Отдел закупок",
    )
    own = f"p-{uuid.uuid4().hex[:10]}@example.org"
    person = await http.post(
        f"/api/v1/customers/{company}/representatives",
        json={"name": "Пётр Сидоров", "email": own, "authorities": []},
        headers=tokens["operator"],
    )
    assert person.status_code == 201, person.text
    created = await register(http, tokens, company, contact_id=person.json()["id"])
    (message,) = await mailbox.wait_for(own)
    assert text_of(message).startswith("Здравствуйте, Пётр Сидоров!")
    assert mailbox.to(general) == []
    # A request without a calling representative still goes to the company's address.
    other = await register(http, tokens, company)
    await mailbox.wait_for(general)
    for case in (created, other):
        await act(http, tokens, case["id"], ("cancel", {"reason": "test done"}))
