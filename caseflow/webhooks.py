"""Inbound webhooks from external ticket systems: who may send, and what a delivery says.

Senders that sign use Standard Webhooks (`webhook-id`, `webhook-timestamp`,
`webhook-signature`; five minutes of tolerance); an OTRS web service cannot sign and
sends a per-connector bearer token instead.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from standardwebhooks.webhooks import Webhook

from caseflow.connectors.otrs import webhook_change
from caseflow.connectors.rt import KINDS, parse_time
from caseflow.ticketing import ConnectorConfig, TicketChange


class WebhookRefused(Exception):
    """The sender could not be authenticated."""


def authenticate(config: ConnectorConfig, headers: Mapping[str, str], raw: bytes) -> None:
    if config.webhook_secret is not None:
        try:
            Webhook(config.webhook_secret.get_secret_value()).verify(
                raw, dict(headers), json_parse=False
            )
        except Exception as exc:  # the library raises several kinds; every one is a refusal
            raise WebhookRefused(f"signature not accepted: {exc}") from exc
        return
    if config.webhook_token is None:
        raise WebhookRefused(f"{config.name} accepts no webhooks")
    given = headers.get("authorization", "")
    expected = f"Bearer {config.webhook_token.get_secret_value()}"
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise WebhookRefused("bearer token not accepted")


class OtrsEvent(BaseModel):
    Event: str = Field(min_length=1)
    TicketID: str | int


class OtrsTicket(BaseModel):
    model_config = ConfigDict(extra="allow")

    TicketID: str | int
    State: str = Field(min_length=1)
    StateType: str | None = None
    Changed: str = Field(pattern=r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


class OtrsDelivery(BaseModel):
    model_config = ConfigDict(extra="allow")

    Event: OtrsEvent
    Ticket: OtrsTicket


class RtDelivery(BaseModel):
    """What Caseflow's RT scrip posts for a transaction (the poller catches what it misses)."""

    ticket_id: str | int
    transaction_id: int = Field(gt=0)
    type: str = Field(min_length=1)
    creator: str | None = None
    created: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}Z?$")
    status: str | None = None


def translate(config: ConnectorConfig, payload: Any) -> TicketChange | None:
    """The delivery as a change (pydantic.ValidationError if malformed); None when it is
    Caseflow's own change or nothing Caseflow follows."""
    if config.kind == "otrs":
        delivery = OtrsDelivery.model_validate(payload)
        item = webhook_change(config.name, delivery.model_dump(mode="json"))
        kind: Literal["status", "article"] = "article" if item.kind == "article" else "status"
        return TicketChange(
            connector=config.name,
            ticket_id=item.ticket_id,
            event_id=item.event_id,
            order=item.order,
            kind=kind,
            at=item.at,
            status=item.status,
            status_type=item.status_type,
            meaning=config.meaning(item.status, item.status_type),
        )
    event = RtDelivery.model_validate(payload)
    found = KINDS.get(event.type)
    if found is None or event.creator == config.integration_user:
        return None
    return TicketChange(
        connector=config.name,
        ticket_id=str(event.ticket_id),
        event_id=f"txn-{event.transaction_id}",  # the poller's id for it: one of them counts
        order=float(event.transaction_id),
        kind="status" if found == "status" else "article",
        at=parse_time(event.created.replace(" ", "T")),
        status=event.status,
        author=event.creator,
        meaning=config.meaning(event.status),
    )
