"""Inbound webhooks from external ticket systems: who may send, and what a delivery says.

Senders that sign use Standard Webhooks (`webhook-id`, `webhook-timestamp`,
`webhook-signature`; five minutes of tolerance); an OTRS web service cannot sign and
sends a per-connector bearer token instead.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from standardwebhooks.webhooks import Webhook

from caseflow.tickets.connectors import ConnectorConfig, TicketChange

# Request Tracker transaction types Caseflow follows, and what they are to a case.
KINDS = {"Correspond": "reply", "Comment": "note", "Status": "status"}


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def otrs_time(text: str) -> datetime:
    """`YYYY-MM-DD HH:MM:SS` in the server's local time, taken as written (ordering only)."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


TOLERANCE = timedelta(minutes=5)


class WebhookRefused(Exception):
    """The sender could not be authenticated."""


class StaleDelivery(Exception):
    """A signed delivery stamped more than five minutes from now (a replay, or a bad clock)."""


def authenticate(
    config: ConnectorConfig, headers: Mapping[str, str], raw: bytes, now: datetime | None = None
) -> None:
    if config.webhook_secret is not None:
        stamp = headers.get("webhook-timestamp", "")
        if stamp.isdigit():
            sent = datetime.fromtimestamp(int(stamp), UTC)
            if abs((now or datetime.now(UTC)) - sent) > TOLERANCE:
                raise StaleDelivery(
                    f"webhook-timestamp {sent:%Y-%m-%dT%H:%M:%SZ} is not within 5 minutes"
                )
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


def otrs_change(config: ConnectorConfig, delivery: OtrsDelivery) -> TicketChange:
    """An invoker's delivery as a change. OTRS sends no event id: it is derived from the
    ticket, the event and the ticket's `Changed` time, which also gives the order. An
    ArticleCreate only names the ticket: its articles are fetched by the workflow."""
    ticket = delivery.Ticket
    ticket_id, name, changed = str(ticket.TicketID), delivery.Event.Event, ticket.Changed
    at = otrs_time(changed)
    article = name == "ArticleCreate"
    return TicketChange(
        connector=config.name,
        ticket_id=ticket_id,
        event_id=f"{ticket_id}:{name}:{changed}",
        order=at.timestamp(),
        kind="article" if article else "status",
        at=at,
        status=None if article else ticket.State,
        status_type=None if article else ticket.StateType,
        meaning=None if article else config.meaning(ticket.State, ticket.StateType),
    )


def translate(config: ConnectorConfig, payload: Any) -> TicketChange | None:
    """The delivery as a change (pydantic.ValidationError if malformed); None when it is
    Caseflow's own change or nothing Caseflow follows."""
    if config.kind == "otrs":
        return otrs_change(config, OtrsDelivery.model_validate(payload))
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
