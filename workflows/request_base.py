"""RequestWorkflow's state and how it records a step: what its parts (SLA clocks, external
tickets, the workflow itself) share."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.requests import RequestActivities
    from caseflow.payloads import (
        Action,
        Actor,
        Assignment,
        EventRecord,
        Hop,
        RequestStart,
    )
    from caseflow.requests.lifecycle import (
        Line,
        State,
    )
    from caseflow.sla.terms import Clock, SlaTerms
    from caseflow.tickets.connectors import (
        ExternalTicket,
    )
    from workflows.retries import SHORT_RETRY, SHORT_STEP


class RequestBase:
    """The request as the workflow holds it; a step becomes a recorded event."""

    # A person's or the system's step, defined by RequestWorkflow (the parts move the case
    # through it: an SLA breach escalates, a department's closing returns it).
    _transition: Callable[[Action], Coroutine[Any, Any, None]]

    def __init__(self, start: RequestStart) -> None:
        self.start = start
        self.state = State.REGISTERED
        self.line = Line.L1
        self.queue: str | None = None
        self.assignee: str | None = None
        self.priority = start.priority
        self.number: str | None = None
        self.registered_at = workflow.now()
        self.assignment: Assignment | None = None
        self.hops: list[Hop] = []
        self.seq = 0
        self.ready = False
        self.auto_close_at: datetime | None = None
        self.retry_at: datetime | None = None
        self.sla: SlaTerms | None = None
        self.clocks: list[Clock] = []
        self.ticket: ExternalTicket | None = None
        self.lock = asyncio.Lock()
        self.tasks: list[asyncio.Task[None]] = []

    async def _record(self, event: EventRecord) -> None:
        await workflow.execute_local_activity_method(
            RequestActivities.record_request_event,
            event,
            start_to_close_timeout=SHORT_STEP,
            retry_policy=SHORT_RETRY,
        )

    async def _record_with_step(
        self, event: EventRecord, unwritten: list[EventRecord] | None
    ) -> None:
        """Recorded now, or kept in `unwritten` for the step's one write with its ledger."""
        if unwritten is None:
            await self._record(event)
        else:
            unwritten.append(event)

    def _event(
        self, action: str, actor: Actor, to_state: State, reason: str | None = None
    ) -> EventRecord:
        return EventRecord(
            workflow_id=self._wf_id(),
            request_id=self.start.request_id,
            seq=self._next_seq(),
            at=workflow.now(),
            actor=actor.username,
            actor_role=actor.role,
            action=action,
            from_state=self.state,
            to_state=to_state,
            line=self.line,
            queue=self.queue,
            assignee=self.assignee,
            priority=self.priority,
            reason=reason,
        )

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def _wf_id(self) -> str:
        return workflow.info().workflow_id
