"""Znuny/OTRS over the GenericInterface REST web service (its `Ticket` connector).

Errors come back as HTTP 200 with an `Error` member, so every answer's body is read.
TicketCreate has no idempotency: the ticket carries the Caseflow reference in the
`CaseflowRef` dynamic field and is searched by it before creating again.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from activities.connectors.base import (
    Incoming,
    TicketRejected,
    TicketSystemDown,
    Upload,
    call,
    json_of,
)
from caseflow.tickets.connectors import ConnectorConfig, TicketOrder, TicketRef
from caseflow.tickets.webhooks import otrs_time

REF_FIELD = "CaseflowRef"
PRIORITIES = {"low": "2 low", "normal": "3 normal", "high": "4 high", "critical": "5 very high"}
CONTENT_TYPE = "text/plain; charset=utf8"
# Refusals that a later attempt could get past (a session or a lock, not the request itself).
TRANSIENT = ("Timeout", "Locked")


class OtrsConnector:
    def __init__(self, config: ConnectorConfig, http: httpx.AsyncClient) -> None:
        assert config.username is not None and config.password is not None
        self.config = config
        self.http = http
        self.base = config.base_url.rstrip("/")
        self.auth = {"UserLogin": config.username, "Password": config.password.get_secret_value()}

    async def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        query: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"timeout": self.config.timeout}
        if method == "GET":
            kwargs["params"] = {**self.auth, **(query or {})}
        else:
            kwargs["json"] = {**self.auth, **(body or {})}
        answer = await call(self.http, method, f"{self.base}{path}", **kwargs)
        data = json_of(answer)
        if not isinstance(data, dict):
            raise TicketRejected(f"{method} {path}: unexpected answer {data!r}")
        error = data.get("Error")
        if error:
            code = str(error.get("ErrorCode", "?"))
            text = f"{method} {path}: {code}: {error.get('ErrorMessage', '')}"
            if any(mark in code for mark in TRANSIENT):
                raise TicketSystemDown(text)
            raise TicketRejected(text)
        if answer.status_code >= 400:
            raise TicketRejected(f"{method} {path}: HTTP {answer.status_code}")
        return data

    async def find(self, ref: str) -> TicketRef | None:
        query = {f"DynamicField_{REF_FIELD}": json.dumps({"Equals": ref})}
        found = await self._call("GET", "/Ticket", query=query)
        ids = found.get("TicketID") or []
        if not ids:
            return None
        ticket = await self._ticket(str(ids[0]), articles=False)
        return TicketRef(
            ticket_id=str(ticket["TicketID"]), number=str(ticket["TicketNumber"]), found=True
        )

    async def create(self, order: TicketOrder, files: list[Upload]) -> TicketRef:
        body: dict[str, Any] = {
            "Ticket": {
                "Title": f"[{order.number}] {order.subject}",
                "Queue": order.queue,
                "State": "new",
                "Priority": PRIORITIES.get(order.priority, PRIORITIES["normal"]),
                "CustomerUser": order.requestor or self.config.integration_user,
            },
            "Article": article(order.subject, order.body, public=False),
            "DynamicField": [{"Name": REF_FIELD, "Value": order.ref}],
        }
        if files:
            body["Attachment"] = attachments(files)
        made = await self._call("POST", "/Ticket", body)
        return TicketRef(ticket_id=str(made["TicketID"]), number=str(made["TicketNumber"]))

    async def post(
        self, ticket_id: str, text: str, *, public: bool, files: list[Upload]
    ) -> str | None:
        body: dict[str, Any] = {"Article": article("Caseflow", text, public=public)}
        if files:
            body["Attachment"] = attachments(files)
        made = await self._call("PATCH", f"/Ticket/{ticket_id}", body)
        return str(made["ArticleID"]) if made.get("ArticleID") else None

    async def set_status(self, ticket_id: str, status: str) -> None:
        await self._call("PATCH", f"/Ticket/{ticket_id}", {"Ticket": {"State": status}})

    async def _ticket(self, ticket_id: str, *, articles: bool) -> dict[str, Any]:
        query = {"DynamicFields": "1"}
        if articles:
            query |= {"AllArticles": "1", "Attachments": "1"}
        data = await self._call("GET", f"/Ticket/{ticket_id}", query=query)
        tickets = data.get("Ticket") or []
        if not tickets:
            raise TicketRejected(f"ticket {ticket_id} not found")
        return dict(tickets[0])

    async def articles(self, ticket_id: str, known: set[str]) -> list[Incoming]:
        """Articles not synced yet and not written by Caseflow, with their files."""
        ticket = await self._ticket(ticket_id, articles=True)
        found = []
        for item in ticket.get("Article") or []:
            article_id = str(item["ArticleID"])
            if article_id in known or item.get("CreateBy") == self.config.integration_user:
                continue
            public = str(item.get("IsVisibleForCustomer", "0")) == "1"
            found.append(
                Incoming(
                    event_id=f"article-{article_id}",
                    order=float(article_id),
                    kind="reply" if public else "note",
                    at=otrs_time(item["CreateTime"]),
                    ticket_id=ticket_id,
                    author=item.get("From"),
                    text=item.get("Body") or "",
                    external_id=article_id,
                    files=[
                        Upload(
                            filename=str(a["Filename"]),
                            content_type=str(a.get("ContentType") or "application/octet-stream"),
                            data=base64.b64decode(a.get("Content") or ""),
                        )
                        for a in item.get("Attachment") or []
                    ],
                )
            )
        return found


def article(subject: str, body: str, *, public: bool) -> dict[str, Any]:
    return {
        "CommunicationChannel": "Internal",
        "SenderType": "agent",
        "IsVisibleForCustomer": 1 if public else 0,
        "Subject": subject,
        "Body": body,
        "ContentType": CONTENT_TYPE,
    }


def attachments(files: list[Upload]) -> list[dict[str, str]]:
    return [
        {
            "Content": base64.b64encode(f.data).decode("ascii"),
            "ContentType": f.content_type,
            "Filename": f.filename,
        }
        for f in files
    ]
