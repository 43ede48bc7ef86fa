"""What e-mail templates are given: the addressee as they like to be addressed, the request,
the event. Plain data, built by the notification activity from the read model."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from caseflow.requests.topics import Importance

AddressForm = Literal["formal", "informal"]


def salutation(
    locale: str,
    *,
    name: str | None,
    form: AddressForm = "formal",
    gender: str | None = None,
) -> str:
    """The opening line: gender-aware where the language needs it, formal unless asked."""
    if locale == "ru":
        if not name:
            return "Уважаемые коллеги!" if form == "formal" else "Здравствуйте!"
        if form == "informal":
            return f"Здравствуйте, {name}!"
        if gender == "male":
            return f"Уважаемый {name}!"
        if gender == "female":
            return f"Уважаемая {name}!"
        return f"Здравствуйте, {name}!"
    if not name:
        return "Dear colleagues," if form == "formal" else "Hello,"
    return f"Dear {name}," if form == "formal" else f"Hi {name},"


class Addressee(BaseModel):
    name: str = Field(description="as we address them")
    salutation: str
    organisation: str | None = Field(default=None, description="for a company's contact")
    email: str


class RequestFacts(BaseModel):
    id: str
    number: str
    subject: str
    topic: str
    topic_title: str
    state: str
    registered_at: datetime
    assignee_name: str | None = None
    response_due: datetime | None = Field(default=None, description="first answer by then")
    resolution_due: datetime | None = Field(default=None, description="resolved by then")


class Notice(BaseModel):
    """One thing a recipient should hear about; `key` makes it unique (workflow id + seq)."""

    key: str
    event: str
    request_id: str | None = None
    topic: str | None = None
    importance: Importance = "normal"
    at: datetime
    data: dict[str, Any] = Field(default_factory=dict)


Reader = Literal["customer", "staff"]


def sample_context(
    event: str,
    locale: str,
    topic: str | None = None,
    topic_title: str | None = None,
    reader: Reader = "customer",
) -> dict[str, Any]:
    """Made-up values of every variable a template may use, for `templates check` and
    `templates preview` (a request of `topic`, named `topic_title`; a card block if none).
    A customer's e-mail has `customer`, a staff member's `recipient`, never both."""
    at = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    russian = locale == "ru"
    name = "Иван Петрович" if russian else "John"
    request = RequestFacts(
        id="00000000-0000-0000-0000-000000000000",
        number="REQ-000123",
        subject="Не проходит оплата картой" if russian else "Card payment fails",
        topic=topic or "card_block",
        topic_title=topic_title or ("Блокировка карты" if russian else "Card block"),
        state="assigned",
        registered_at=at,
        assignee_name="Алексей Вторых" if russian else "Alex Second",
        response_due=at + timedelta(hours=2),
        resolution_due=at + timedelta(hours=8),
    )
    customer = Addressee(
        name=name,
        salutation=salutation(locale, name=name, gender="male"),
        organisation="ООО «Ромашка»" if russian else "Daisy Ltd",
        email="ivan@example.com",
    )
    values: dict[str, Any] = {
        "customer": customer.model_dump(),
        "request": request.model_dump(),
        "event": {
            "message": "Пришлите, пожалуйста, номер договора"
            if russian
            else "Please send us the contract number"
        },
        "timezone": "Europe/Moscow",
        "reply_to": "case+token@caseflow.local",
    }
    if event == "digest":
        values["items"] = [
            {
                "event": "request_registered",
                "subject": "…",
                "body": "…",
                "request": values["request"],
            },
            {
                "event": "request_assigned",
                "subject": "…",
                "body": "…",
                "request": values["request"],
            },
        ]
    if event in ("sla_breach_supervisor", "sla_warning_assignee", "sla_breach_assignee"):
        values["clock"] = {
            "kind": "first_response",
            "line": "L1",
            "target": 7200.0,
            "policy": "standard",
        }
    if event in ("deal_task_overdue", "deal_task_reminder"):
        values["deal"] = {
            "title": "Поставка 2027" if russian else "Supply 2027",
            "stage": "proposal",
            "owner_name": "Максим Продажин",
        }
        values["task"] = {"title": "Отправить КП" if russian else "Send the proposal", "due": at}
    if reader == "staff":
        values.pop("customer")
        values["recipient"] = {
            "name": "Светлана",
            "salutation": salutation(locale, name="Светлана", gender="female"),
        }
    else:
        values.pop("recipient", None)
    return values


class NotifierStart(BaseModel):
    """A recipient's notifier: what it has seen (dedup) and what waits to be sent."""

    recipient_key: str = Field(description="customer:<id> or user:<username>")
    window: timedelta
    give_up_after: timedelta = Field(
        default=timedelta(days=2), description="retry an e-mail this long, then mark it failed"
    )
    seen: list[str] = Field(default_factory=list)
    pending: list[Notice] = Field(default_factory=list)


class Batch(BaseModel):
    """Notices sent off together as one e-mail (one notice, or a digest of one request)."""

    recipient_key: str
    notices: list[Notice]
    batched_at: datetime
    skip: str | None = Field(
        default=None, description="not to be sent, only recorded, and why (superseded)"
    )


class Sent(BaseModel):
    message_id: str
    status: Literal["sent", "skipped", "failed"]
    detail: str = ""


class Resend(BaseModel):
    """A failed e-mail to send again, by its Message-ID."""

    message_id: str
    give_up_after: timedelta = timedelta(days=2)


def resend_order(message_id: str, attempts: int, give_up_after: timedelta) -> tuple[str, Resend]:
    """The ResendWorkflow's id and input for a failed e-mail: one resend per failure, however
    often it is asked for (the id names the attempts so far)."""
    key = hashlib.sha256(message_id.encode()).hexdigest()[:32]
    return f"resend-{key}-{attempts}", Resend(message_id=message_id, give_up_after=give_up_after)
