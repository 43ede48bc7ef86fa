"""Request Tracker 5 over REST2 (RT's REST2 API, https://docs.bestpractical.com/rt/5.0.0/RT/REST2.html).

RT has no idempotency key and no webhooks: a ticket carries the Caseflow reference as a
subject tag `[REQ-000123]` to be found again, and changes are read by polling ticket
histories after the last transaction id seen (transaction ids only grow).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import httpx

from activities.connectors.base import (
    Incoming,
    TicketRejected,
    Upload,
    call,
    json_of,
)
from caseflow.tickets.connectors import ConnectorConfig, TicketOrder, TicketRef
from caseflow.tickets.webhooks import KINDS, parse_time

HISTORY_FIELDS = "Type,Field,OldValue,NewValue,Creator,Created"
PAGE = 100
SYSTEM_USER = "RT_System"
IGNORED = frozenset({"SystemError", "Create", "EmailRecord", "CommentEmailRecord"})
FAILURES = ("isn't a valid", "permission denied", "no permission", "could not", "couldn't")


@dataclass
class RtCursor:
    """Where polling stopped: tickets updated since `since`, transactions after `txn`."""

    since: str | None = None
    txn: int = 0


class RtConnector:
    def __init__(self, config: ConnectorConfig, http: httpx.AsyncClient) -> None:
        assert config.token is not None
        self.config = config
        self.http = http
        self.base = config.base_url.rstrip("/")
        self.web = self.base.removesuffix("/REST/2.0")
        self.headers = {
            "Authorization": f"token {config.token.get_secret_value()}",
            "Accept": "application/json",
        }

    async def _json(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        answer = await call(
            self.http,
            method,
            f"{self.base}{path}",
            headers=self.headers,
            timeout=self.config.timeout,
            **kwargs,
        )
        return answer.status_code, json_of(answer)

    def _ref(self, ticket_id: str, *, found: bool = False) -> TicketRef:
        url = f"{self.web}/Ticket/Display.html?id={ticket_id}"
        return TicketRef(ticket_id=ticket_id, number=ticket_id, url=url, found=found)

    async def find(self, ref: str) -> TicketRef | None:
        mark = tag(ref)
        params = {"query": f"Subject LIKE '{mark}'", "fields": "Subject"}
        status, body = await self._json("GET", "/tickets", params=params)
        if status != 200:
            raise TicketRejected(f"search for {mark}: HTTP {status} {body}")
        for item in body.get("items", []):
            if mark in str(item.get("Subject", "")):
                return self._ref(str(item["id"]), found=True)
        return None

    async def create(self, order: TicketOrder, files: list[Upload]) -> TicketRef:
        payload: dict[str, Any] = {
            "Queue": order.queue,
            "Subject": f"[{order.number}] {order.subject} {tag(order.ref)}",
            "Content": order.body,
            "ContentType": "text/plain",
        }
        if order.requestor:
            payload["Requestor"] = order.requestor
        if files:
            payload["Attachments"] = attachments(files)
        status, body = await self._json("POST", "/ticket", json=payload)
        if status != 201 or not isinstance(body, dict) or "id" not in body:
            raise TicketRejected(f"ticket not created: HTTP {status} {message_of(body)}")
        return self._ref(str(body["id"]))

    async def post(
        self, ticket_id: str, text: str, *, public: bool, files: list[Upload]
    ) -> str | None:
        kind = "correspond" if public else "comment"
        payload = {"Content": text, "ContentType": "text/plain", "Attachments": attachments(files)}
        status, body = await self._json("POST", f"/ticket/{ticket_id}/{kind}", json=payload)
        if status != 201:
            raise TicketRejected(f"{kind} on ticket {ticket_id}: HTTP {status} {message_of(body)}")
        refused(body, f"{kind} on ticket {ticket_id}")
        return None

    async def set_status(self, ticket_id: str, status: str) -> None:
        code, body = await self._json("PUT", f"/ticket/{ticket_id}", json={"Status": status})
        if code != 200:
            raise TicketRejected(f"status of ticket {ticket_id}: HTTP {code} {message_of(body)}")
        refused(body, f"status of ticket {ticket_id}")  # a wrong status is a 200 with a message

    async def articles(self, ticket_id: str, known: set[str]) -> list[Incoming]:
        """Replies and notes not synced yet (after a signed event that only names them)."""
        return [
            change
            for change in await self.changes(ticket_id, 0)
            if change.kind != "status" and change.external_id not in known
        ]

    # --- polling ---------------------------------------------------------------------------

    async def updated_since(self, since: str | None) -> dict[str, str]:
        """Ticket id → LastUpdated of tickets changed since `since` (UTC, RT's format)."""
        query = f"LastUpdated >= '{since}'" if since else "id > 0"
        found: dict[str, str] = {}
        page = 1
        while True:
            params = {"query": query, "fields": "LastUpdated", "per_page": PAGE, "page": page}
            status, body = await self._json("GET", "/tickets", params=params)
            if status != 200:
                raise TicketRejected(f"ticket search: HTTP {status} {message_of(body)}")
            for item in body.get("items", []):
                found[str(item["id"])] = str(item.get("LastUpdated", ""))
            if page >= int(body.get("pages") or 1):
                return found
            page += 1

    async def history(self, ticket_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            params = {"fields": HISTORY_FIELDS, "per_page": PAGE, "page": page}
            status, body = await self._json("GET", f"/ticket/{ticket_id}/history", params=params)
            if status != 200:
                raise TicketRejected(f"history of {ticket_id}: HTTP {status} {message_of(body)}")
            items += body.get("items", [])
            if page >= int(body.get("pages") or 1):
                return sorted(items, key=lambda t: int(t["id"]))
            page += 1

    async def changes(self, ticket_id: str, after: int) -> list[Incoming]:
        """The ticket's transactions after `after`, translated; echoes of our own left out."""
        found: list[Incoming] = []
        previous: dict[str, Any] | None = None
        contents: dict[str, tuple[str, list[Upload]]] | None = None
        for txn in await self.history(ticket_id):
            kind = KINDS.get(txn.get("Type", ""))
            creator = (txn.get("Creator") or {}).get("id")
            if int(txn["id"]) > after and kind is not None and not self._echo(txn, previous):
                change = Incoming(
                    event_id=f"txn-{txn['id']}",
                    order=float(txn["id"]),
                    kind=kind,
                    at=parse_time(txn["Created"]),
                    ticket_id=ticket_id,
                    author=creator,
                    external_id=str(txn["id"]),
                )
                if kind == "status":
                    change.status = txn.get("NewValue") or None
                else:
                    contents = contents or await self._contents(ticket_id)
                    change.text, change.files = contents.get(str(txn["id"]), ("", []))
                found.append(change)
            if txn.get("Type") not in IGNORED:
                previous = txn
        return found

    def _echo(self, txn: dict[str, Any], previous: dict[str, Any] | None) -> bool:
        """Our own change, or RT reopening a ticket because we replied to it."""
        creator = (txn.get("Creator") or {}).get("id")
        if creator == self.config.integration_user:
            return True
        if creator == SYSTEM_USER and txn.get("Type") == "Status" and previous is not None:
            ours = (previous.get("Creator") or {}).get("id") == self.config.integration_user
            return ours and previous.get("Type") in ("Correspond", "Comment")
        return False

    async def _contents(self, ticket_id: str) -> dict[str, tuple[str, list[Upload]]]:
        """Transaction id → (its text, its files), from the ticket's attachments."""
        params = {"fields": "Filename,ContentType,Content,TransactionId", "per_page": PAGE}
        status, body = await self._json("GET", f"/ticket/{ticket_id}/attachments", params=params)
        if status != 200:
            raise TicketRejected(f"attachments of {ticket_id}: HTTP {status} {message_of(body)}")
        result: dict[str, tuple[str, list[Upload]]] = {}
        for item in body.get("items", []):
            raw = item.get("TransactionId")
            txn = str(raw.get("id") if isinstance(raw, dict) else raw)
            text, files = result.get(txn, ("", []))
            if item.get("Filename"):
                files.append(await self._file(str(item["id"]), item))
            elif item.get("ContentType") == "text/plain" and not text:
                text = str(item.get("Content") or "")
            result[txn] = (text, files)
        return result

    async def _file(self, attachment_id: str, item: dict[str, Any]) -> Upload:
        """A file's bytes: the single-attachment call gives them base64, whatever the type."""
        status, body = await self._json("GET", f"/attachment/{attachment_id}")
        if status != 200:
            raise TicketRejected(f"attachment {attachment_id}: HTTP {status}")
        data = base64.b64decode(body.get("Content") or "")
        kind = str(item.get("ContentType") or "application/octet-stream")
        return Upload(filename=str(item["Filename"]), content_type=kind, data=data)


def tag(ref: str) -> str:
    """The Caseflow reference in the subject: how a ticket is found again (RT has no
    idempotency key, and custom fields need setting up in each RT)."""
    return f"[caseflow:{ref}]"


def attachments(files: list[Upload]) -> list[dict[str, str]]:
    return [
        {
            "FileName": f.filename,
            "FileType": f.content_type,
            "FileContent": base64.b64encode(f.data).decode("ascii"),
        }
        for f in files
    ]


def message_of(body: Any) -> str:
    if isinstance(body, dict):
        return str(body.get("message", body))
    return str(body)


def refused(messages: Any, what: str) -> None:
    """RT answers 200/201 with messages; a refusal is only in their text."""
    texts = messages if isinstance(messages, list) else [message_of(messages)]
    for text in texts:
        if any(mark in str(text).lower() for mark in FAILURES):
            raise TicketRejected(f"{what}: {text}")
