"""Registering requests and projecting their events into the read model."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.customers.profile import survivor_of
from caseflow.models import Counter, Request, RequestEvent
from caseflow.payloads import Assignment, EventRecord, RegisterInput
from caseflow.platform import bulk
from caseflow.requests.lifecycle import FINAL_STATES, Line, State

REQUEST_COUNTER = "request"

# Statements of every registration, built once (the values are their parameters).
NUMBERING = (
    update(Counter)
    .where(Counter.name == REQUEST_COUNTER)
    .values(value=Counter.value + 1)
    .returning(Counter.value)
)
REGISTERED = (
    select(Request.number, RequestEvent.data)
    .join(RequestEvent, RequestEvent.workflow_id == Request.workflow_id)
    .where(Request.workflow_id == bindparam("workflow_id"), RequestEvent.action == "assign")
    .order_by(RequestEvent.seq)
    .limit(1)
)


EVENTS = insert(RequestEvent)
REQUESTS = insert(Request)


def format_number(value: int) -> str:
    return f"REQ-{value:06d}"


async def next_number(session: AsyncSession) -> int:
    """Bump the counter inside the caller's transaction: a rollback gives the number back."""
    result = await session.execute(NUMBERING)
    value = result.scalar_one_or_none()
    if value is None:
        session.add(Counter(name=REQUEST_COUNTER, value=1))
        await session.flush()
        return 1
    return int(value)


async def registered(session: AsyncSession, workflow_id: str) -> tuple[str, Assignment] | None:
    """Number and first assignment of a request registered before (a retried activity)."""
    row = await session.execute(REGISTERED, {"workflow_id": workflow_id})
    found = row.first()
    if found is None:
        return None
    return found[0], Assignment.model_validate(found[1]["assignment"])


async def register(session: AsyncSession, data: RegisterInput, assignment: Assignment) -> str:
    """Number the request and insert it already assigned, with both events (Core inserts:
    every registration comes here)."""
    value = await next_number(session)
    start = data.request
    number = format_number(value)
    customer_id = await survivor_of(session, start.customer.id)
    assigned = data.assign.event.model_copy(
        update={
            "line": assignment.line,
            "queue": assignment.queue,
            "assignee": assignment.assignee,
            "to_state": State.ASSIGNED if assignment.assignee else State.REGISTERED,
            "assignment": assignment,
        }
    )
    await session.execute(
        REQUESTS,
        {
            "id": start.request_id,
            "workflow_id": data.workflow_id,
            "seq_no": value,
            "number": number,
            "customer_id": customer_id,
            "channel": start.channel,
            "topic": start.topic,
            "subtopic": start.subtopic,
            "priority": start.priority,
            "subject": start.subject,
            "description": start.description,
            "intake_hash": start.body_hash,
            "state": assigned.to_state,
            "line": assigned.line,
            "queue": assigned.queue,
            "assignee": assigned.assignee,
            "assignment_rule": assignment.rule,
            "assignment_explanation": assignment.explanation,
            "created_by": start.created_by.username,
            "fields": start.fields,
            "field_disclosure": start.field_disclosure,
            "contact_id": start.contact_id,
            "unidentified": start.unidentified,
            "disclosure_allowed": start.disclosure_allowed,
            "last_seq": assigned.seq,
            "created_at": data.at,
            "updated_at": data.at,
        },
    )
    registration = registration_event(data)
    registration.data = {"number": number, "channel": start.channel, "topic": start.topic}
    await session.execute(EVENTS, [event_values(registration), event_values(assigned)])
    return number


def registration_event(data: RegisterInput) -> EventRecord:
    """The first event of every request: registered on the first line, nobody assigned."""
    start = data.request
    return EventRecord(
        workflow_id=data.workflow_id,
        request_id=start.request_id,
        seq=data.seq,
        at=data.at,
        actor=start.created_by.username,
        actor_role=start.created_by.role,
        action="register",
        from_state=None,
        to_state=State.REGISTERED,
        line=Line.L1,
        queue=None,
        assignee=None,
        priority=start.priority,
    )


def event_values(event: EventRecord) -> dict[str, Any]:
    """The event's row (its id is the table's to give)."""
    data = dict(event.data)
    if event.assignment is not None:
        data["assignment"] = event.assignment.model_dump(mode="json")
    return {
        "request_id": event.request_id,
        "workflow_id": event.workflow_id,
        "seq": event.seq,
        "at": event.at,
        "actor": event.actor,
        "actor_role": event.actor_role,
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "line": event.line,
        "queue": event.queue,
        "assignee": event.assignee,
        "reason": event.reason,
        "data": data,
    }


ADDRESSED = select(Request.customer_id, Request.topic).where(Request.id == bindparam("id"))


async def customer_and_topic(session: AsyncSession, request_id: str) -> tuple[str, str] | None:
    """Whom a request's e-mails go to and what about: two columns, not the whole row."""
    found = (await session.execute(ADDRESSED, {"id": request_id})).first()
    return None if found is None else (found[0], found[1])


async def event_exists(session: AsyncSession, workflow_id: str, seq: int) -> RequestEvent | None:
    return await session.scalar(
        select(RequestEvent).where(RequestEvent.workflow_id == workflow_id, RequestEvent.seq == seq)
    )


async def project(session: AsyncSession, event: EventRecord) -> bool:
    """Write the event and move the case row forward; False if this event was already written."""
    # One statement: the event unless it was written before (a retried activity).
    if not await bulk.insert_new(session, RequestEvent, event_values(event)):
        return False
    values: dict[str, object] = {
        "state": event.to_state,
        "line": event.line,
        "queue": event.queue,
        "assignee": event.assignee,
        "priority": event.priority,
        "last_seq": event.seq,
        "updated_at": event.at,
    }
    if event.to_state in FINAL_STATES:
        values["closed_at"] = event.at
    if event.assignment is not None:
        values["assignment_rule"] = event.assignment.rule
        values["assignment_explanation"] = event.assignment.explanation
    # Events may be retried late; the row only ever moves forward.
    await session.execute(
        update(Request)
        .where(Request.workflow_id == event.workflow_id, Request.last_seq < event.seq)
        .values(**values)
    )
    return True
