"""A working morning for the demo, played through the API as people would (`make run` does
it on a fresh database): requests in several states and lines, one card block that breaches
its five-minute first-response target if nobody answers, a VIP on the second line, deals
in two stages (for the account manager's own customer: a manager sees only theirs) and a
web lead whose ten-minute callback task falls overdue if nobody calls, and a
caller whose old mailbox is gone (the mail catcher refuses `.invalid` with 550: the
supervisor's floor lists that failed e-mail beside the sent ones). Every
step is an ordinary API call with a demo login, so the console shows real workflows, SLA
clocks and e-mails."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from cli.demo import DEMO_NAMESPACE, DEMO_PASSWORD


def customer(name: str) -> str:
    return str(uuid.uuid5(DEMO_NAMESPACE, name))


ROMASHKA = customer("ООО «Ромашка»")
IVAN = customer("Иван Петров")
ANNA = customer("Anna Smith")
VODOKANAL = customer("МУП «Водоканал»")


class Demo:
    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.tokens: dict[str, dict[str, str]] = {}

    def as_(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            answer = self.http.post(
                "/auth/token", data={"username": username, "password": DEMO_PASSWORD}
            )
            answer.raise_for_status()
            self.tokens[username] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        return self.tokens[username]

    def call(self, who: str, method: str, path: str, body: Any = None) -> dict[str, Any]:
        answer = self.http.request(method, path, json=body, headers=self.as_(who))
        if answer.status_code >= 400:
            raise RuntimeError(f"{method} {path} as {who}: {answer.status_code} {answer.text}")
        data: dict[str, Any] = answer.json()
        return data

    def request(self, **body: Any) -> dict[str, Any]:
        intake = {"channel": "phone", "description": "Из демо-данных", **body}
        return self.call("operator", "POST", "/requests", intake)

    def act(self, case: dict[str, Any], action: str, body: Any = None) -> dict[str, Any]:
        who = case["assignee"] or "supervisor"
        return self.call(who, "POST", f"/requests/{case['id']}/{action}", body or {})


def play(base_url: str) -> str:
    """Plays the morning once (not again if requests exist); says what it did."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        demo = Demo(http)
        if demo.call("admin", "GET", "/requests?limit=1")["items"]:
            return "requests exist already: left as they are"
        resolved = demo.request(customer_id=ROMASHKA, topic="consultation", subject="Тарифы")
        resolved = demo.act(resolved, "start")
        demo.act(resolved, "resolve", {"resolution": "Рассказали о тарифах"})
        waiting = demo.request(customer_id=ROMASHKA, topic="consultation", subject="Счёт")
        waiting = demo.act(waiting, "start")
        demo.act(waiting, "request-info", {"message": "Пришлите, пожалуйста, номер счёта"})
        escalated = demo.request(customer_id=ROMASHKA, topic="consultation", subject="Сбой")
        escalated = demo.act(escalated, "start")
        demo.act(escalated, "escalate", {"to_line": "L2", "reason": "Нужен второй уровень"})
        demo.request(customer_id=ROMASHKA, topic="consultation", subject="Новый вопрос")
        demo.request(
            customer_id=IVAN,
            topic="card_block",
            subject="Заблокировать карту",
            proofs=["name", "code_word"],
            fields={"card_last4": "4321"},
        )
        demo.request(customer_id=ANNA, topic="consultation", subject="VIP: выписка")
        moved = demo.call(
            "operator", "POST", "/customers",
            {"kind": "person", "name": "Пётр Переехавший", "region": "RU-MOW", "segment": "b2c",
             "emails": ["petr@old-provider.invalid"], "phones": ["+7 916 000-11-22"]},
        )  # fmt: skip
        demo.request(customer_id=moved["id"], topic="consultation", subject="Смена адреса")
        qualified = demo.call(
            "manager", "POST", "/deals",
            {"customer_id": VODOKANAL, "pipeline": "b2b", "title": "Поставка оборудования",
             "amount": 1_200_000},
        )  # fmt: skip
        url = f"/deals/{qualified['id']}"
        fields = {"budget": 1_500_000, "decision_maker": "Генеральный директор"}
        demo.call("manager", "PATCH", url, {"fields": fields})
        for task in qualified["tasks"]:
            demo.call("manager", "POST", f"{url}/tasks/{task['id']}/complete", {"result": "Да"})
        demo.call("manager", "POST", f"{url}/advance", {})
        demo.call(
            "manager", "POST", "/deals",
            {"customer_id": VODOKANAL, "pipeline": "b2b", "title": "Обслуживание сетей",
             "amount": 800_000},
        )  # fmt: skip
        demo.call(
            "manager", "POST", "/deals",
            {"customer_id": VODOKANAL, "pipeline": "leads", "title": "Заявка с сайта: счётчики",
             "amount": 150_000},
        )  # fmt: skip
        return (
            "7 requests (resolved, waiting, escalated, new, a card block, a VIP, one whose"
            " e-mail bounces), 3 deals (one's callback falls overdue ten minutes after start)"
        )
