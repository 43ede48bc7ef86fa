"""`POST /webhooks/{connector}`: status, replies and notes from external ticket systems.

The delivery is recorded once per (connector, event id) and signalled to its request's
workflow before the answer: a 2xx means it is durable. A repeated delivery answers 200
`duplicate` and is signalled again, in case the first signal never went out (the
workflow drops repeats by event id and stale statuses by the external order).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ValidationError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import DbSession, Temporal
from api.deps import State as App
from api.problems import Problem, from_validation, invalid, not_found
from caseflow.tickets import store as tickets
from caseflow.tickets.webhooks import StaleDelivery, WebhookRefused, authenticate, translate

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


class Receipt(BaseModel):
    status: str  # accepted | duplicate | ignored
    event_id: str | None = None
    request_id: str | None = None
    detail: str | None = None


@router.post(
    "/{connector}",
    response_model=Receipt,
    responses={
        400: {"description": "stale_timestamp: signed more than 5 minutes from now"},
        401: {"description": "bad signature or wrong token"},
        404: {"description": "no such connector"},
        422: {"description": "malformed body: not JSON, or not a delivery (field named)"},
    },
)
async def receive(
    connector: Annotated[str, Path(max_length=32)],
    request: Request,
    app: App,
    db: DbSession,
    temporal: Temporal,
) -> Receipt:
    config = app.ticketing.get(connector)
    if config is None:
        raise not_found(f"connector '{connector}'")
    raw = await request.body()
    try:
        authenticate(config, request.headers, raw)
    except WebhookRefused as exc:
        raise Problem(401, "unauthorized", str(exc)) from exc
    except StaleDelivery as exc:
        raise Problem(400, "stale_timestamp", str(exc)) from exc
    try:
        payload: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid("body", "not JSON") from exc
    try:
        change = translate(config, payload)
    except ValidationError as exc:
        raise from_validation(exc.errors()) from exc
    if change is None:
        return Receipt(status="ignored", detail="Caseflow's own change, or not followed")
    link = await app.links.get(db, connector, change.ticket_id)
    request_id = link[0] if link else None
    new = await tickets.record_change(db, change, request_id)
    await db.commit()
    if link is None:
        return Receipt(status="ignored", event_id=change.event_id, detail="no case has this ticket")
    # A repeat is signalled again: its first signal may not have gone out (the sender
    # retries exactly then), and the workflow drops what it has applied.
    status = "accepted" if new else "duplicate"
    detail = None
    try:
        await temporal.get_workflow_handle(link[1]).signal("ticket_event", change)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise  # Temporal unreachable: 503, and the sender retries
        status, detail = "ignored", "the case is finished"
    return Receipt(status=status, event_id=change.event_id, request_id=request_id, detail=detail)
