"""Pydantic models crossing the workflow boundary: workflow input, updates, activities, views.

Each workflow, update and activity takes one model and returns one, so a field can be
added without breaking histories or callers. Keep these free of I/O: workflows import them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from caseflow.requests.lifecycle import Line, Role, State
from caseflow.sla.terms import SlaLedger, SlaTerms, SlaView
from caseflow.tickets.connectors import ExternalTicket, StoredFile


class Actor(BaseModel):
    username: str
    role: Role
    lines: list[Line] = Field(default_factory=list)
    team: str | None = None


SYSTEM_ACTOR = Actor(username="system", role=Role.SYSTEM, lines=list(Line))


class CustomerFacts(BaseModel):
    """What routing needs to know of the customer, captured at intake."""

    id: str
    name: str
    kind: str
    region: str
    segment: str
    tier: str
    personal_manager: str | None = None
    contract_unit: str | None = None
    status: str = "client"
    planned_volume: int | None = None
    account_manager: str | None = None


class MailFacts(BaseModel):
    """What routing rules may test of a request that came by e-mail."""

    mailbox: str | None = Field(default=None, description="the mailbox it was read from")
    to: list[str] = Field(default_factory=list)
    has_attachment: bool = False


class RequestStart(BaseModel):
    request_id: str
    body_hash: str
    customer: CustomerFacts
    channel: str
    topic: str
    subtopic: str | None = None
    priority: str = "normal"
    subject: str
    description: str
    created_by: Actor
    auto_close_after: timedelta = timedelta(days=3)
    # Guided intake: the topic's fields, who called (a representative) and what they may hear.
    fields: dict[str, Any] = Field(default_factory=dict)
    field_disclosure: dict[str, str] = Field(default_factory=dict)
    contact_id: int | None = None
    unidentified: bool = False
    disclosure_allowed: str = "public"
    resolving_line: Line | None = Field(
        default=None, description="the topic's: lines below it escalate, never resolve"
    )
    mail: MailFacts | None = None


class Intake(BaseModel):
    """The update sent with the start: returns once the request is registered and assigned."""

    body_hash: str


class Action(BaseModel):
    name: str
    actor: Actor
    text: str | None = None
    public: bool = False
    reason: str | None = None
    to_line: Line | None = None
    queue: str | None = None
    assignee: str | None = None
    priority: str | None = None
    system: str | None = Field(default=None, description="handoff: the connector")
    files: list[StoredFile] = Field(default_factory=list, description="comment: attached files")
    share: bool = Field(
        default=False, description="comment: goes to the external ticket even if internal"
    )
    override_capacity: bool = Field(
        default=False, description="take: over the taker's capacity, said on purpose"
    )
    expected_seq: int | None = Field(
        default=None,
        description="the version (last_seq) the person saw: refused as stale if it moved",
    )


class Assignment(BaseModel):
    line: Line
    queue: str | None
    assignee: str | None
    rule: str
    explanation: str
    file: str | None = None
    tried: list[dict[str, str]] = Field(default_factory=list, description="rules that failed")
    candidates: list[dict[str, Any]] = Field(default_factory=list)
    retry_after: timedelta | None = Field(
        default=None, description="nobody eligible: the workflow retries after this"
    )


class AssignInput(BaseModel):
    """Route and pick an agent, then write `event` with the result, in one transaction.

    With `assignee` the person is taken as given; with `queue` routing is skipped;
    with `for_line` only rules for that line are considered (escalation).
    """

    event: EventRecord
    request: RequestStart
    for_line: Line | None = None
    queue: str | None = None
    assignee: str | None = None


class Registered(BaseModel):
    number: str
    registered_at: datetime
    assignment: Assignment
    sla: SlaTerms | None = None


class SlaChoice(BaseModel):
    terms: SlaTerms | None = None


class RegisterInput(BaseModel):
    """Register the request and make its first assignment in one transaction."""

    workflow_id: str
    seq: int
    at: datetime
    request: RequestStart
    assign: AssignInput


class EventRecord(BaseModel):
    """One change of the case, projected into the read model idempotently on (workflow, seq)."""

    workflow_id: str
    request_id: str
    seq: int
    at: datetime
    actor: str
    actor_role: Role
    action: str
    from_state: State | None
    to_state: State
    line: Line
    queue: str | None
    assignee: str | None
    priority: str
    reason: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    assignment: Assignment | None = None


class RecordedStep(BaseModel):
    """A step of the case as one write: its event(s) and the SLA ledger as of it, in one
    transaction — the read model never shows the event with the clocks of before it."""

    events: list[EventRecord]
    ledger: SlaLedger | None = None


class Hop(BaseModel):
    """Where a request stood before an escalation, so `return` can take it back there."""

    line: Line
    queue: str | None
    assignee: str | None


class RequestView(BaseModel):
    id: str
    workflow_id: str
    number: str | None
    state: State
    line: Line
    queue: str | None
    assignee: str | None
    priority: str
    channel: str
    topic: str
    subtopic: str | None
    subject: str
    customer_id: str
    created_by: str
    registered_at: datetime | None
    assignment: Assignment | None
    escalations: list[Hop]
    auto_close_at: datetime | None
    last_seq: int
    sla: SlaView | None = Field(
        default=None, description="policy and clocks: target, elapsed, remaining, due, …"
    )
    resolving_line: Line | None = Field(
        default=None, description="the topic's: lines below it escalate, never resolve"
    )
    external: ExternalTicket | None = Field(
        default=None, description="the adjacent department's ticket, once handed off"
    )


class Requeue(BaseModel):
    """A machine event: the assignee went away; give the request back to its queue."""

    assignee: str
    reason: str


class AbsenceStart(BaseModel):
    absence_id: int
    username: str
    starts_at: datetime
    reason: str = ""
