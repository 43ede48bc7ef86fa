"""Customers write in: the mail gateway receives over LMTP and SMTP (Python's smtplib as the
MTA), keeps each message once, and files it — a new case, the customer's reply on their
case, a note when someone else answers, nothing back for a machine's message — whatever
shape the message has."""

from __future__ import annotations

import asyncio
import smtplib
import struct
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from caseflow.mail import recipients
from caseflow.models import InboundMessage, Notification, Request, RequestEvent, RequestFile
from cli.mail_gateway import Receive, serve
from tests.conftest import free_port

API = "/api/v1"
SERVICE = "support@caseflow.local"


@pytest_asyncio.fixture
async def gateway(caseflow_app) -> AsyncIterator[tuple[int, int, Receive, Receive]]:
    state = caseflow_app.state.caseflow
    lmtp_port, smtp_port = free_port(), free_port()
    lmtp, by_lmtp = await serve(state, "127.0.0.1", lmtp_port, "lmtp")
    smtp, by_smtp = await serve(state, "127.0.0.1", smtp_port, "smtp", max_bytes=64 * 1024)
    yield lmtp_port, smtp_port, by_lmtp, by_smtp
    for server in (lmtp, smtp):
        server.close()
        await server.wait_closed()


def letter(
    sender: str,
    subject: str,
    text: str,
    *,
    to: str = SERVICE,
    headers: dict[str, str] | None = None,
    attachment: tuple[str, bytes] | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="customer.example")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if attachment is not None:
        message.add_attachment(
            attachment[1], maintype="application", subtype="octet-stream", filename=attachment[0]
        )
    return message.as_bytes()


async def deliver(port: int, raw: bytes, to: str = SERVICE, *, lmtp: bool = True) -> None:
    raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # lines end as SMTP's do

    def send() -> None:
        client = smtplib.LMTP("127.0.0.1", port) if lmtp else smtplib.SMTP("127.0.0.1", port)
        with client:
            client.sendmail("mta@customer.example", [to], raw)

    await asyncio.to_thread(send)


async def filed(sessions, handler: Receive, raw_key: str) -> InboundMessage:
    await handler.settle()
    async with sessions() as db:
        row = await db.scalar(select(InboundMessage).where(InboundMessage.message_key == raw_key))
    assert row is not None
    return row


def key_of(raw: bytes) -> str:
    from caseflow.mail.inbound import read

    return read(raw).key


async def customer_with_case(http, tokens, address: str) -> dict:
    body = {"kind": "person", "name": "Пишущий Клиент", "emails": [address],
            "region": "RU-MOW", "segment": "b2c"}  # fmt: skip
    customer = (await http.post(f"{API}/customers", json=body, headers=tokens["operator"])).json()
    intake = {"customer_id": customer["id"], "channel": "phone", "topic": "consultation",
              "subject": "Счёт", "description": "Вопрос по счёту"}  # fmt: skip
    case = await http.post(f"{API}/requests", json=intake, headers=tokens["operator"])
    assert case.status_code == 201, case.text
    return case.json()


async def waiting(http, tokens, case: dict) -> None:
    who = tokens.get(case["assignee"], tokens["supervisor"])
    for action, body in (("start", {}), ("request-info", {"message": "Пришлите номер счёта"})):
        answer = await http.post(f"{API}/requests/{case['id']}/{action}", json=body, headers=who)
        assert answer.status_code == 200, answer.text


async def our_email(sessions, case: dict, address: str) -> str:
    """One of our e-mails about the case to the address, as the notifier keeps it sent."""
    ours = f"<{uuid.uuid4().hex}@caseflow.local>"
    now = datetime.now(UTC)
    async with sessions() as db:
        db.add(Notification(
            message_id=ours, recipient_key=f"customer:{case['customer_id']}", recipient=address,
            customer_id=case["customer_id"], request_id=case["id"], events=["request_info"],
            notice_keys=["k"], importance="normal", status="sent", first_notice_at=now,
            batched_at=now, created_at=now, sent_at=now,
        ))  # fmt: skip
        await db.commit()
    return ours


async def test_a_new_message_opens_one_case_even_when_delivered_twice(
    gateway, http, tokens, sessions
) -> None:
    lmtp, _, handler, _ = gateway
    sender = f"new-{uuid.uuid4().hex[:8]}@customer.example"
    raw = letter(f"Новый Клиент <{sender}>", "Не работает личный кабинет", "Не могу войти.")
    await deliver(lmtp, raw)
    row = await filed(sessions, handler, key_of(raw))
    assert (row.status, row.kind) == ("registered", "new"), row.reason
    case = (await http.get(f"{API}/requests/{row.request_id}", headers=tokens["admin"])).json()
    assert case["channel"] == "email" and case["subject"] == "Не работает личный кабинет"
    customer = await http.get(f"{API}/customers/{case['customer_id']}", headers=tokens["admin"])
    assert sender in customer.json()["emails"] and customer.json()["name"] == "Новый Клиент"
    await deliver(lmtp, raw)  # the MTA delivers it again
    await handler.settle()
    async with sessions() as db:
        kept = await db.scalar(
            select(func.count())
            .select_from(InboundMessage)
            .where(InboundMessage.message_key == row.message_key)
        )
        cases = await db.scalar(
            select(func.count())
            .select_from(Request)
            .where(Request.customer_id == case["customer_id"])
        )
    assert (kept, cases) == (1, 1)


async def test_the_customers_reply_resumes_their_case_with_its_file(
    gateway, http, tokens, sessions
) -> None:
    lmtp, _, handler, _ = gateway
    address = f"reply-{uuid.uuid4().hex[:8]}@customer.example"
    case = await customer_with_case(http, tokens, address)
    await waiting(http, tokens, case)
    raw = letter(
        address, "Re: Счёт", "Номер счёта 12345\n\n> Пришлите номер счёта",
        to=f"Caseflow <case+{case['id']}@caseflow.local>",
        attachment=("счёт.pdf", b"%PDF-1.4 invoice"),
    )  # fmt: skip
    await deliver(lmtp, raw, to=f"case+{case['id']}@caseflow.local")
    row = await filed(sessions, handler, key_of(raw))
    assert (row.status, row.kind, row.request_id) == ("replied", "reply", case["id"]), row.reason
    now = (await http.get(f"{API}/requests/{case['id']}", headers=tokens["admin"])).json()
    assert now["state"] == "in_progress"
    async with sessions() as db:
        replies = list(
            await db.scalars(
                select(RequestEvent).where(
                    RequestEvent.request_id == case["id"], RequestEvent.action == "customer-reply"
                )
            )
        )
        files = list(
            await db.scalars(select(RequestFile).where(RequestFile.request_id == case["id"]))
        )
    said = f"{replies[0].reason} {replies[0].data}" if len(replies) == 1 else ""
    assert "12345" in said
    assert "Пришлите" not in said  # the quoted history is trimmed
    assert [f.filename for f in files] == ["счёт.pdf"], row.reason


async def test_a_reply_reopens_a_case_resolved_lately_and_follows_up_an_older_one(
    gateway, http, tokens, sessions, caseflow_app, monkeypatch
) -> None:
    """Within CASEFLOW_REOPEN_WINDOW of its resolution the customer's reply reopens the
    case; resolved longer ago, or closed, the reply opens a new case naming the old one."""
    lmtp, _, handler, _ = gateway
    address = f"again-{uuid.uuid4().hex[:8]}@customer.example"
    case = await customer_with_case(http, tokens, address)
    who = tokens.get(case["assignee"], tokens["supervisor"])
    url = f"{API}/requests/{case['id']}"

    async def act(action: str, body: dict) -> None:
        answer = await http.post(f"{url}/{action}", json=body, headers=who)
        assert answer.status_code == 200, answer.text

    async def reply(text: str) -> InboundMessage:
        raw = letter(address, "Re: Счёт", text, to=f"case+{case['id']}@caseflow.local")
        await deliver(lmtp, raw, to=f"case+{case['id']}@caseflow.local")
        return await filed(sessions, handler, key_of(raw))

    await act("start", {})
    await act("resolve", {"resolution": "Счёт отправлен"})
    row = await reply("Счёт так и не пришёл")
    assert (row.status, row.request_id) == ("replied", case["id"]), row.reason
    assert (await http.get(url, headers=tokens["admin"])).json()["state"] == "in_progress"

    await act("resolve", {"resolution": "Отправлен ещё раз"})
    settings = caseflow_app.state.caseflow.settings
    monkeypatch.setattr(settings, "reopen_window", timedelta(0))  # resolved "long ago"
    row = await reply("Спасибо, а теперь другой вопрос")
    assert row.status == "registered" and row.request_id != case["id"], row.reason
    assert f"follows {case['number']}" in (row.reason or "")
    async with sessions() as db:
        follow_up = await db.get(Request, row.request_id)
    assert follow_up is not None and case["number"] in follow_up.description
    assert (await http.get(url, headers=tokens["admin"])).json()["state"] == "resolved"

    monkeypatch.setattr(settings, "reopen_window", timedelta(days=3))
    await act("close", {})
    row = await reply("И ещё одно")
    assert row.status == "registered" and row.request_id not in (case["id"], None), row.reason
    assert (await http.get(url, headers=tokens["admin"])).json()["state"] == "closed"


async def test_a_reply_naming_our_email_threads_by_in_reply_to(
    gateway, http, tokens, sessions
) -> None:
    _, smtp, _, handler = gateway
    address = f"thread-{uuid.uuid4().hex[:8]}@customer.example"
    case = await customer_with_case(http, tokens, address)
    await waiting(http, tokens, case)
    ours = await our_email(sessions, case, address)
    raw = letter(address, "Re: ваш запрос", "Вот номер: 777", headers={"In-Reply-To": ours})
    await deliver(smtp, raw, lmtp=False)
    row = await filed(sessions, handler, key_of(raw))
    assert (row.status, row.request_id) == ("replied", case["id"]), row.reason
    # Someone else answering is a note on the case, not the customer's answer.
    other = letter("stranger@elsewhere.example", "Re: ваш запрос", "Я тоже хочу",
                   headers={"In-Reply-To": ours})  # fmt: skip
    await deliver(smtp, other, lmtp=False)
    row = await filed(sessions, handler, key_of(other))
    assert (row.status, row.request_id) == ("noted", case["id"]), row.reason
    assert "not the customer's" in (row.reason or "")


async def test_machines_are_never_answered_and_a_bounce_marks_our_email(
    gateway, http, tokens, sessions
) -> None:
    lmtp, _, handler, _ = gateway
    address = f"away-{uuid.uuid4().hex[:8]}@customer.example"
    case = await customer_with_case(http, tokens, address)
    await waiting(http, tokens, case)
    away = letter(address, "Автоответ: Счёт", "Я в отпуске до понедельника",
                  to=f"case+{case['id']}@caseflow.local",
                  headers={"Auto-Submitted": "auto-replied"})  # fmt: skip
    await deliver(lmtp, away, to=f"case+{case['id']}@caseflow.local")
    row = await filed(sessions, handler, key_of(away))
    assert (row.status, row.kind) == ("ignored", "automatic")
    still = (await http.get(f"{API}/requests/{case['id']}", headers=tokens["admin"])).json()
    assert still["state"] == "waiting_customer"  # an auto-reply is not the customer's answer

    ours = await our_email(sessions, case, address)
    report = (
        "From: MAILER-DAEMON@customer.example\r\nTo: support@caseflow.local\r\n"
        f"Subject: Undelivered Mail\r\nMessage-ID: <{uuid.uuid4().hex}@mx>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; "
        'boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nThe mail could not be '
        "delivered.\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; "
        "mx\r\n\r\nFinal-Recipient: rfc822; gone@nowhere.example\r\nAction: failed\r\nStatus: "
        "5.1.1\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: "
        f"{ours}\r\nSubject: Обращение\r\n--b--\r\n"
    ).encode()
    await deliver(lmtp, report)
    row = await filed(sessions, handler, key_of(report))
    assert (row.status, row.kind, row.request_id) == ("ignored", "bounce", case["id"])
    shown = await http.get(f"{API}/requests/{case['id']}/notifications", headers=tokens["admin"])
    bounced = [n for n in shown.json()["items"] if n["message_id"] == ours]
    assert [n["status"] for n in bounced] == ["bounced"]
    # The address is not written to again until the customer's addresses change.
    async with sessions() as db:
        found = await recipients.customer(db, case["customer_id"], case["id"], lambda _: "ru")
    assert found is None


@pytest.mark.parametrize(
    "shape",
    ["koi8-r subject and HTML with a script", "no Message-ID", "not MIME at all"],
)
async def test_awkward_shapes_are_filed_and_nothing_crashes(
    gateway, http, tokens, sessions, shape
) -> None:
    lmtp, _, handler, _ = gateway
    sender = f"odd-{uuid.uuid4().hex[:8]}@customer.example"
    if shape == "koi8-r subject and HTML with a script":
        raw = (
            f"From: {sender}\r\nTo: {SERVICE}\r\nSubject: =?koi8-r?B?8NLP18XSy8E=?=\r\n"
            f"Message-ID: <{uuid.uuid4().hex}@x>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/html; charset=windows-1251\r\n\r\n"
        ).encode() + "<p>Здравствуйте<script>steal()</script></p>".encode("cp1251")
    elif shape == "no Message-ID":
        text = f"From: {sender}\r\nTo: {SERVICE}\r\nSubject: Без идентификатора\r\n\r\nТекст\r\n"
        raw = text.encode()
    else:
        raw = b"\x00\xff\xfe this is not an e-mail \x01 " + uuid.uuid4().hex.encode() + b"\r\n"
    await deliver(lmtp, raw)
    row = await filed(sessions, handler, key_of(raw))
    if shape == "not MIME at all":
        assert (row.status, row.kind) == ("failed", "unreadable") and row.reason
        return
    assert row.status == "registered", row.reason
    case = (await http.get(f"{API}/requests/{row.request_id}", headers=tokens["admin"])).json()
    if shape == "no Message-ID":
        assert row.message_key.startswith("sha256:") and case["subject"] == "Без идентификатора"
    else:
        assert case["subject"] == "Проверка"
        events = (
            await http.get(f"{API}/requests/{row.request_id}/events", headers=tokens["admin"])
        ).json()
        assert "steal" not in str(events)


async def test_a_message_over_the_limit_is_refused_with_552(gateway) -> None:
    _, smtp, _, _ = gateway
    raw = letter("big@customer.example", "Большое", "x" * (100 * 1024))
    with pytest.raises(smtplib.SMTPException) as refused:
        await deliver(smtp, raw, lmtp=False)
    assert "552" in str(refused.value)


async def test_a_flood_from_one_sender_is_throttled_into_one_case(gateway, sessions) -> None:
    lmtp, _, handler, _ = gateway
    sender = f"robot-{uuid.uuid4().hex[:8]}@customer.example"  # a robot that is not marked
    rows = []
    for n in range(7):
        raw = letter(sender, f"Уведомление {n}", f"Событие {n}")
        await deliver(lmtp, raw)
        rows.append(await filed(sessions, handler, key_of(raw)))
    assert [r.status for r in rows] == ["registered"] * 5 + ["noted"] * 2
    assert {r.request_id for r in rows[5:]} == {rows[4].request_id}
    assert "throttled" in (rows[5].reason or "")


async def test_a_conversation_by_email_threads_both_ways(
    gateway, http, tokens, sessions, mailbox
) -> None:
    """The customer writes; the agent answers from the case and the answer names the
    customer's e-mail (In-Reply-To); the agent asks for information; the customer's mail
    program answers that e-mail, and the reply resumes the case."""
    lmtp, _, handler, _ = gateway
    address = f"talk-{uuid.uuid4().hex[:8]}@customer.example"
    first = letter(f"Собеседник <{address}>", "Не приходит счёт", "Где мой счёт за ноябрь?")
    await deliver(lmtp, first)
    row = await filed(sessions, handler, key_of(first))
    case = (await http.get(f"{API}/requests/{row.request_id}", headers=tokens["admin"])).json()
    who = tokens.get(case["assignee"], tokens["supervisor"])
    url = f"{API}/requests/{case['id']}"
    await mailbox.wait_for(address)  # the registration e-mail
    answer = {"text": "Счёт отправлен повторно, проверьте папку «Спам».", "public": True}
    assert (await http.post(f"{url}/comment", json=answer, headers=who)).status_code == 200
    got = await mailbox.wait_for(address, count=2, seconds=30)
    replies = [m for m in got if "Спам" in str(m.get_body(preferencelist=("plain",)).get_content())]
    assert replies, [m["Subject"] for m in got]
    assert replies[0]["In-Reply-To"] == key_of(first)  # threads with the customer's e-mail
    assert replies[0]["Reply-To"] == f"case+{case['id']}@caseflow.local"
    for action, body in (("start", {}), ("request-info", {"message": "Номер договора?"})):
        assert (await http.post(f"{url}/{action}", json=body, headers=who)).status_code == 200
    got = await mailbox.wait_for(address, count=3, seconds=30)
    asked = next(
        m
        for m in got
        if "Номер договора" in str(m.get_body(preferencelist=("plain",)).get_content())
    )
    thread = {"In-Reply-To": asked["Message-ID"], "References": asked["Message-ID"]}
    reply = letter(
        address, f"Re: {asked['Subject']}", "Договор № 77\n\n> Номер договора?", headers=thread
    )
    await deliver(lmtp, reply)
    row = await filed(sessions, handler, key_of(reply))
    assert (row.status, row.request_id) == ("replied", case["id"]), row.reason
    now = (await http.get(url, headers=tokens["admin"])).json()
    assert now["state"] == "in_progress"  # the clock paused while waiting runs again


async def test_a_program_attached_is_refused_and_the_case_says_so(
    gateway, http, tokens, sessions
) -> None:
    lmtp, _, handler, _ = gateway
    program = b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00" + uuid.uuid4().bytes
    raw = letter(f"exe-{uuid.uuid4().hex[:8]}@customer.example", "Счёт во вложении",
                 "Откройте счёт", attachment=("invoice.pdf.exe", program))  # fmt: skip
    await deliver(lmtp, raw)
    row = await filed(sessions, handler, key_of(raw))
    assert row.status == "registered" and "invoice.pdf.exe: refused" in (row.reason or "")
    async with sessions() as db:
        files = list(
            await db.scalars(select(RequestFile).where(RequestFile.request_id == row.request_id))
        )
        notes = list(
            await db.scalars(
                select(RequestEvent.reason).where(
                    RequestEvent.request_id == row.request_id, RequestEvent.action == "comment"
                )
            )
        )
    assert files == [] and any("invoice.pdf.exe" in (n or "") for n in notes)


async def test_routing_rules_may_test_the_email(gateway, http, tokens, sessions) -> None:
    """The shipped rule `email-contracts-to-b2b`: a contract sent with its scan goes to the
    B2B desk; the same subject without a file stays on the hotline."""
    lmtp, _, handler, _ = gateway
    sender = f"contract-{uuid.uuid4().hex[:8]}@customer.example"
    scan = letter(sender, "Договор поставки на подпись", "Во вложении скан",
                  attachment=("договор.pdf", b"%PDF-1.4 scan"))  # fmt: skip
    plain = letter(sender, "Вопрос про договор", "Когда пришлёте?")
    routed = []
    for raw in (scan, plain):
        await deliver(lmtp, raw)
        row = await filed(sessions, handler, key_of(raw))
        case = await http.get(f"{API}/requests/{row.request_id}", headers=tokens["admin"])
        routed.append((case.json()["line"], case.json()["queue"]))
    assert routed[0] == ("L2", "l2-b2b")
    assert routed[1][0] == "L1"


async def test_the_topic_of_a_new_case_is_chosen_by_the_emails_rules(
    gateway, http, tokens, sessions
) -> None:
    """routing_rules/mail/topics.yaml: a complaint says so in its subject and becomes one;
    mail no rule names takes the gateway's topic."""
    lmtp, _, handler, _ = gateway
    sender = f"topic-{uuid.uuid4().hex[:8]}@customer.example"
    topics = []
    for subject in ("Жалоба на курьера", "Как подключить услугу?"):
        raw = letter(sender, subject, "Текст письма")
        await deliver(lmtp, raw)
        row = await filed(sessions, handler, key_of(raw))
        case = await http.get(f"{API}/requests/{row.request_id}", headers=tokens["admin"])
        topics.append((case.json()["topic"], row.reason or ""))
    assert topics[0][0] == "complaint" and "by rule email-complaint" in topics[0][1]
    assert topics[1][0] == "consultation"


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def tnef_stream(files: list[tuple[str, bytes]], encoding: str = "cp1251") -> bytes:
    """A winmail.dat as Outlook writes one (MS-OXTNEF): signature, key, then attributes —
    level, id, length, data, checksum — each file as rendering data, title and data."""

    def attribute(level: int, attribute_id: int, data: bytes) -> bytes:
        head = struct.pack("<BII", level, attribute_id, len(data))
        return head + data + struct.pack("<H", sum(data) & 0xFFFF)

    stream = struct.pack("<IH", 0x223E9F78, 0x0001)
    stream += attribute(1, 0x00089006, struct.pack("<I", 0x00010000))  # attTnefVersion
    stream += attribute(1, 0x00069007, struct.pack("<II", 1251, 0))  # attOemCodepage
    for name, data in files:
        stream += attribute(2, 0x00069002, b"\x01\x00" + b"\xff" * 12)  # attAttachRendData
        stream += attribute(2, 0x00018010, name.encode(encoding) + b"\x00")  # attAttachTitle
        stream += attribute(2, 0x0006800F, data)  # attAttachData
    return stream


def corpus(shape: str, sender: str) -> bytes:
    """Shapes mail programs really send."""
    message = EmailMessage()
    message["From"], message["To"] = sender, SERVICE
    message["Message-ID"] = make_msgid(domain="customer.example")
    if shape == "alternative with an inline image":
        message["Subject"] = "Скриншот ошибки"
        message.set_content("Ошибка на скриншоте")
        message.add_alternative('<p>Ошибка: <img src="cid:shot"></p>', subtype="html")
        html = message.get_body(preferencelist=("html",))
        assert isinstance(html, EmailMessage)
        html.add_related(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image", "png", cid="<shot>",
                         filename="shot.png")  # fmt: skip
    elif shape == "winmail.dat from Outlook":
        message["Subject"] = "Письмо из Outlook"
        message.set_content("Текст письма")
        message.add_attachment(b"\x78\x9f\x3e\x22" + b"\x00" * 200, maintype="application",
                               subtype="ms-tnef", filename="winmail.dat")  # fmt: skip
    elif shape == "winmail.dat with files inside":
        message["Subject"] = "Договор из Outlook"
        message.set_content("Договор и фото во вложении")
        inside = [("договор.pdf", b"%PDF-1.4 contract"), ("photo.png", PNG),
                  ("setup.exe", b"MZ\x90\x00" + b"\x00" * 60)]  # fmt: skip
        message.add_attachment(tnef_stream(inside), maintype="application",
                               subtype="ms-tnef", filename="winmail.dat")  # fmt: skip
    elif shape == "a 10 MB attachment":
        message["Subject"] = "Большая выгрузка"
        message.set_content("Выгрузка во вложении")
        message.add_attachment(b"id;amount\n" + b"1;100\n" * 1_666_000, maintype="text",
                               subtype="csv", filename="выгрузка.csv")  # fmt: skip
    else:  # a forwarded message
        message["Subject"] = "Fwd: Жалоба клиента"
        message.set_content("Пересылаю жалобу")
        inner = EmailMessage()
        inner["From"], inner["Subject"] = "angry@customer.example", "Жалоба"
        inner.set_content("Очень недоволен")
        message.add_attachment(inner)
    return message.as_bytes()


@pytest.mark.parametrize(
    "shape",
    [
        "alternative with an inline image",
        "winmail.dat from Outlook",
        "winmail.dat with files inside",
        "a 10 MB attachment",
        "a forwarded message",
    ],
)
async def test_the_shapes_mail_programs_send_become_cases_with_their_files(
    gateway, sessions, shape
) -> None:
    lmtp, _, handler, _ = gateway
    raw = corpus(shape, f"shape-{uuid.uuid4().hex[:8]}@customer.example")
    await deliver(lmtp, raw)
    row = await filed(sessions, handler, key_of(raw))
    assert row.status == "registered", row.reason
    async with sessions() as db:
        files = {
            f.filename: f.size
            for f in await db.scalars(
                select(RequestFile).where(RequestFile.request_id == row.request_id)
            )
        }
    if shape == "winmail.dat from Outlook":  # no file can be read from it: kept, refused
        assert files == {} and "winmail.dat: refused" in (row.reason or "")
        return
    if shape == "winmail.dat with files inside":  # Outlook's wrapper opened, checks apply
        assert set(files) == {"договор.pdf", "photo.png"}, (files, row.reason)
        assert "setup.exe: refused" in (row.reason or "")
        return
    expected = {
        "alternative with an inline image": "shot.png",
        "a 10 MB attachment": "выгрузка.csv",
        "a forwarded message": "forwarded.eml",
    }[shape]
    assert expected in files, (files, row.reason)
    if shape == "a 10 MB attachment":
        assert files[expected] > 9_900_000


async def test_two_first_messages_of_a_new_sender_at_once_make_one_customer(
    gateway, http, tokens, sessions
) -> None:
    lmtp, _, handler, _ = gateway
    sender = f"twice-{uuid.uuid4().hex[:8]}@customer.example"
    raws = [letter(sender, f"Первое письмо {n}", "Текст") for n in range(2)]
    await asyncio.gather(*(deliver(lmtp, raw) for raw in raws))
    rows = [await filed(sessions, handler, key_of(raw)) for raw in raws]
    assert [r.status for r in rows] == ["registered", "registered"], [r.reason for r in rows]
    owners = {
        (await http.get(f"{API}/requests/{r.request_id}", headers=tokens["admin"])).json()[
            "customer_id"
        ]
        for r in rows
    }
    assert len(owners) == 1


async def test_an_unknown_sender_who_may_be_a_known_customer_is_suggested_on_the_case(
    gateway, http, tokens, sessions
) -> None:
    lmtp, _, handler, _ = gateway
    tag = uuid.uuid4().hex[:6]
    known = {"kind": "person", "name": f"Иван Почтовиков {tag}", "region": "RU-MOW",
             "segment": "b2c", "emails": [f"ivan.pochta.{tag}@old.example"]}  # fmt: skip
    made = await http.post(f"{API}/customers", json=known, headers=tokens["operator"])
    assert made.status_code == 201, made.text
    raw = letter(f"Иван Почтовиков {tag} <ivan.pochta.{tag}@new.example>", "Новый адрес", "Это я")
    await deliver(lmtp, raw)
    row = await filed(sessions, handler, key_of(raw))
    assert row.status == "registered" and "possibly" in (row.reason or ""), row.reason
    async with sessions() as db:
        notes = list(
            await db.scalars(
                select(RequestEvent.reason).where(
                    RequestEvent.request_id == row.request_id, RequestEvent.action == "comment"
                )
            )
        )
    assert any(made.json()["id"] in (n or "") for n in notes), notes
