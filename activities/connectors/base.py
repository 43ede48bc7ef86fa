"""What every connector offers, and the two ways a call can fail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx

from caseflow.tickets.connectors import TicketOrder, TicketRef


class TicketSystemDown(Exception):
    """Unreachable, timed out or answered 5xx: try again later."""


class TicketRejected(Exception):
    """The system understood the call and refused it: retrying cannot help."""


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Incoming:
    """A reply, note or status change found in the ticket system (files not stored yet)."""

    event_id: str
    order: float
    kind: str  # status | reply | note
    at: datetime
    ticket_id: str
    author: str | None = None
    text: str | None = None
    status: str | None = None
    status_type: str | None = None
    external_id: str | None = None
    files: list[Upload] = field(default_factory=list)


class TicketSystem(Protocol):
    async def find(self, ref: str) -> TicketRef | None: ...

    async def create(self, order: TicketOrder, files: list[Upload]) -> TicketRef: ...

    async def post(
        self, ticket_id: str, text: str, *, public: bool, files: list[Upload]
    ) -> str | None: ...

    async def set_status(self, ticket_id: str, status: str) -> None: ...

    async def articles(self, ticket_id: str, known: set[str]) -> list[Incoming]: ...


async def call(http: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One HTTP call; transport failures and 5xx/429 are `TicketSystemDown`."""
    try:
        answer = await http.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise TicketSystemDown(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
    if answer.status_code >= 500 or answer.status_code == 429:
        raise TicketSystemDown(f"{method} {url}: HTTP {answer.status_code}")
    return answer


def json_of(answer: httpx.Response) -> Any:
    """The body as JSON; an HTML page (a wrong path, RT's CSRF page) is a refusal, not data."""
    kind = answer.headers.get("content-type", "")
    if "json" not in kind:
        raise TicketRejected(
            f"{answer.request.method} {answer.request.url}: expected JSON, got "
            f"HTTP {answer.status_code} {kind or 'without a content type'}"
        )
    try:
        return answer.json()
    except ValueError as exc:
        raise TicketRejected(f"{answer.request.url}: the JSON does not parse") from exc
