"""Examples in the OpenAPI document, for the main operations: bodies that work as they are on
a fresh `make run` (they name the demo data), and answers as the API gives them.

`/docs` offers each body under "Try it out"; tests/test_openapi_examples.py sends them to a
freshly seeded API and checks every answer example against its operation's model.
"""

from __future__ import annotations

from typing import Any

# The demo data of `make run` (cli.demo): its ids are fixed.
DEMO_COMPANY = "51ef48c8-8950-5418-a733-c1ef1bf9fac4"  # ООО «Ромашка», a client
DEMO_MANAGED = "a48c3fd6-63f6-5bf5-b59b-8ea9b434b943"  # МУП «Водоканал», manager's client
REQUEST_ID = "5f0c7d0e-8a4b-4f7e-9a51-3c2d1e0f9b8a"
AT = "2026-12-01T09:30:00Z"

CUSTOMER: dict[str, Any] = {
    "kind": "organization",
    "name": "ООО «Пример»",
    "inn": "7728123459",
    "kpp": "772801001",
    "ogrn": "1027739123455",
    "phones": ["+7 (495) 700-11-22"],
    "emails": ["Info@Primer.example"],
    "region": "RU-MOW",
    "segment": "b2b_commercial",
    "tier": "standard",
    "locale": "ru",
    "contact_person": "Анна Петровна",
}

CUSTOMER_OUT: dict[str, Any] = {
    "id": "0b1d6c8e-4e0a-4f3c-9d5e-7a2b1c3d4e5f",
    **{k: v for k, v in CUSTOMER.items() if k not in ("phones", "emails")},
    "phones": ["+74957001122"],
    "emails": ["info@primer.example"],
    "personal_manager": None,
    "contract_unit": None,
    "status": "client",
    "planned_volume": None,
    "account_manager": None,
    "gender": None,
    "timezone": None,
    "address_form": "formal",
    "address_name": None,
    "created_at": AT,
}

REQUEST: dict[str, Any] = {
    "customer_id": DEMO_COMPANY,
    "channel": "phone",
    "topic": "consultation",
    "subject": "Как подключить тариф?",
    "description": "Клиент спрашивает о подключении тарифа «Бизнес».",
}

REQUEST_OUT: dict[str, Any] = {
    "id": REQUEST_ID,
    "workflow_id": f"request-{REQUEST_ID}",
    "number": "REQ-000001",
    "state": "assigned",
    "line": "L1",
    "queue": "hotline",
    "assignee": "operator",
    "priority": "normal",
    "channel": "phone",
    "topic": "consultation",
    "subtopic": None,
    "subject": REQUEST["subject"],
    "customer_id": DEMO_COMPANY,
    "created_by": "operator",
    "registered_at": AT,
    "assignment": {
        "line": "L1",
        "queue": "hotline",
        "assignee": "operator",
        "rule": "10-intake.yaml:everyone-else",
        "explanation": "rule everyone-else: queue hotline; operator has the lowest load (0/10)",
    },
    "escalations": [],
    "auto_close_at": None,
    "last_seq": 2,
    "sla": {
        "policy": "standard",
        "first_response_due": "2026-12-01T11:30:00Z",
        "resolution_due": "2026-12-01T17:30:00Z",
        "calendar": "moscow-office",
        "warn_at": 0.8,
        "clocks": [
            {
                "kind": kind,
                "line": "L1",
                "policy": "standard",
                "calendar": "moscow-office",
                "target": target,
                "elapsed": "PT0S",
                "remaining": target,
                "paused": False,
                "stopped": False,
                "due": due,
                "warned": False,
                "breached": False,
                "started_at": AT,
                "stopped_at": None,
                "queue": "hotline",
                "assignee": "operator",
            }
            for kind, target, due in (
                ("first_response", "PT2H", "2026-12-01T11:30:00Z"),
                ("resolution", "PT8H", "2026-12-01T17:30:00Z"),
            )
        ],
    },
    "resolving_line": "L1",
    "external": None,
    "allowed_actions": ["start", "comment", "customer-reply", "cancel", "escalate", "handoff"],
    "fields": {},
    "hidden_fields": [],
    "unidentified": False,
    "disclosure_allowed": "public",
}

# Each action's body, in an order that works on the request above as its assignee.
ACTIONS: dict[str, dict[str, Any]] = {
    "take": {},
    "start": {},
    "comment": {"text": "Перезвонили, уточнили тариф", "public": False},
    "request-info": {"message": "Пришлите, пожалуйста, номер договора"},
    "customer-reply": {"message": "Договор № Д-2026/15"},
    "resolve": {"resolution": "Тариф «Бизнес» подключён с 1 декабря"},
    "reopen": {"reason": "Клиент пишет, что тариф не сменился"},
    "escalate": {"to_line": "L2", "reason": "Нужны права второй линии"},
    "return": {"reason": "Разъяснено, вопрос решается на первой линии"},
    "cancel": {"reason": "Клиент отозвал обращение"},
    "close": {},
    "handoff": {"system": "otrs", "queue": "Billing", "note": "Прошу проверить начисления"},
    "reassign": {"queue": "hotline", "reason": "Перераспределение нагрузки"},
    "set-priority": {"priority": "high", "reason": "Жалоба руководству"},
}

DEAL: dict[str, Any] = {
    "customer_id": DEMO_MANAGED,
    "pipeline": "b2b",
    "title": "Поставка 2027",
    "amount": 1500000,
    "fields": {"budget": 2000000},
}

DEAL_OUT: dict[str, Any] = {
    "id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "workflow_id": "deal-7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "pipeline": "b2b",
    "title": DEAL["title"],
    "owner": "manager",
    "customer_id": DEMO_MANAGED,
    "amount": 1500000.0,
    "currency": "RUB",
    "stage": "qualification",
    "stage_title": "Квалификация",
    "status": "open",
    "fields": DEAL["fields"],
    "tasks": [
        {
            "id": 1,
            "stage": "qualification",
            "title": "Первый звонок клиенту",
            "type": "call",
            "assignee_role": "owner",
            "assignee": "manager",
            "due_at": "2026-12-01T13:30:00Z",
            "reminder_at": "2026-12-01T12:30:00Z",
            "blocking": True,
        }
    ],
    "missing": [
        {"field": "decision_maker", "reason": "Кто принимает решение (decision_maker)?"},
        {"task": 1, "reason": "blocking task 'Первый звонок клиенту' is open"},
    ],
    "created_at": AT,
    "runs": 1,
    "last_seq": 1,
}

# operationId → the body it takes.
BODIES: dict[str, dict[str, Any]] = {
    "create_customer": CUSTOMER,
    "register_request": REQUEST,
    "create_deal": DEAL,
    **{f"request_{name.replace('-', '_')}": body for name, body in ACTIONS.items()},
}

# operationId → (status, the answer's body).
ANSWERS: dict[str, tuple[int, dict[str, Any]]] = {
    "create_customer": (201, CUSTOMER_OUT),
    "get_customer": (200, CUSTOMER_OUT),
    "list_customers": (200, {"items": [CUSTOMER_OUT], "next_cursor": None}),
    "register_request": (201, REQUEST_OUT),
    "get_request": (200, REQUEST_OUT),
    "list_requests": (200, {"items": [REQUEST_OUT], "next_cursor": None}),
    "request_take": (200, REQUEST_OUT),
    "create_deal": (201, DEAL_OUT),
    "get_deal": (200, DEAL_OUT),
}


def add_examples(spec: dict[str, Any]) -> None:
    """Put the examples into an OpenAPI document's operations."""
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            name = operation.get("operationId")
            body = BODIES.get(name)
            content = operation.get("requestBody", {}).get("content", {})
            if body is not None and "application/json" in content:
                content["application/json"]["example"] = body
            if name in ANSWERS:
                status, answer = ANSWERS[name]
                media = operation["responses"][str(status)].setdefault("content", {})
                media.setdefault("application/json", {})["example"] = answer
