"""RequestWorkflow: one customer request from registration to close.

Person actions are updates validated against the lifecycle table before they enter
history; the read model is written by local activities before an update returns, so the
HTTP answer and `GET /requests` agree.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.requests import RequestActivities
    from caseflow.customers.merge_terms import CustomerMoved
    from caseflow.payloads import (
        SYSTEM_ACTOR,
        Action,
        AssignInput,
        Assignment,
        EventRecord,
        Hop,
        Intake,
        RegisterInput,
        RequestStart,
        RequestView,
        Requeue,
    )
    from caseflow.requests.lifecycle import (
        FINAL_STATES,
        State,
        next_state,
    )
    from caseflow.tickets.connectors import (
        TicketChange,
    )
    from workflows.idempotency import same_body
    from workflows.request_actions import AFTER, ASSIGNING, SHAPE, TAKE_RULES_PATCH
    from workflows.request_base import SHORT_RETRY, SHORT_STEP
    from workflows.request_rules import RequestRules
    from workflows.request_sla import LEDGER_PATCH, LINE_CHANGE_PATCH, STEP_PATCH
    from workflows.request_tickets import ExternalTickets

__all__ = [
    "LEDGER_AT_REGISTRATION_PATCH",
    "LEDGER_PATCH",
    "LINE_CHANGE_PATCH",
    "STEP_PATCH",
    "TAKE_RULES_PATCH",
    "RequestWorkflow",
]

# Patch ids: histories recorded before a change replay down the old path. (The SLA clocks'
# own, LEDGER_PATCH and LINE_CHANGE_PATCH, live with them in request_sla; the take rules'
# with the per-action steps in request_actions.)
# The registration activity writes the first ledger itself, in its own transaction: the
# intake's answer no longer waits for a second local activity.
LEDGER_AT_REGISTRATION_PATCH = "ledger-written-at-registration"


@workflow.defn
class RequestWorkflow(ExternalTickets, RequestRules):
    @workflow.init
    def __init__(self, start: RequestStart) -> None:
        super().__init__(start)

    @workflow.run
    async def run(self, start: RequestStart) -> RequestView:
        async with self.lock:
            await self._register()
            if not workflow.patched(LEDGER_AT_REGISTRATION_PATCH):
                await self._publish_ledger()
        # One scheduler for every timer of the request: auto-close, hold-and-retry and SLA
        # warnings and breaches. It plans under the lock, so an update half-way through its
        # activity is finished before the next alarm is chosen; any recorded change (seq
        # moves) wakes it to plan again.
        while self.state not in FINAL_STATES:
            async with self.lock:
                seen = self.seq
                alarm = self._next_alarm()
                if alarm is not None and alarm[0] <= workflow.now():
                    unwritten: list[EventRecord] | None = (
                        [] if workflow.patched(STEP_PATCH) else None
                    )
                    await self._ring(alarm, unwritten)
                    await self._publish_ledger(unwritten)
                    continue
            timeout = None if alarm is None else alarm[0] - workflow.now()
            try:
                await workflow.wait_condition(
                    lambda seen=seen: self.seq != seen or self.state in FINAL_STATES,  # type: ignore[misc]
                    timeout=timeout,
                )
            except TimeoutError:
                pass  # the alarm is due: the next turn rings it
        await workflow.wait_condition(workflow.all_handlers_finished)
        # Posts to an external ticket still under way (the system may be down) finish first.
        await asyncio.gather(*self.tasks)
        return self.view()

    def _next_alarm(self) -> tuple[datetime, str, int] | None:
        """The earliest thing the request must do by itself: (when, what, clock index)."""
        alarms: list[tuple[datetime, str, int]] = []
        if self.state == State.RESOLVED and self.auto_close_at is not None:
            alarms.append((self.auto_close_at, "auto-close", -1))
        if self._held() and self.retry_at is not None:
            alarms.append((self.retry_at, "retry-assign", -1))
        if self.sla is not None:
            calendar, now = self.sla.calendar.build(), workflow.now()
            for index, clock in enumerate(self.clocks):
                alarm = clock.next_alarm(calendar, now, self.sla.warn_at)
                if alarm is not None:
                    alarms.append((alarm[0], alarm[1], index))
        return min(alarms, default=None)

    async def _ring(
        self, alarm: tuple[datetime, str, int], unwritten: list[EventRecord] | None = None
    ) -> None:
        _, what, index = alarm
        if what == "auto-close":
            quiet = self.start.auto_close_after
            await self._transition(
                Action(
                    name="close",
                    actor=SYSTEM_ACTOR,
                    reason=f"no reply for {quiet}; closed automatically",
                ),
                unwritten,
            )
        elif what == "retry-assign":
            assert self.assignment is not None
            event = self._event(
                "retry-assign",
                SYSTEM_ACTOR,
                State.ASSIGNED,
                reason=f"nobody was free; tried again after {self.assignment.retry_after}",
            )
            data = AssignInput(event=event, request=self.start, for_line=self.line)
            self._apply(await self._assign(data))
        else:
            await self._sla_alarm(self.clocks[index], what, unwritten)

    async def _register(self) -> None:
        seq = self._next_seq()
        assign = AssignInput(
            event=self._event("assign", self.start.created_by, State.ASSIGNED),
            request=self.start,
        )
        registered = await workflow.execute_local_activity_method(
            RequestActivities.register_request,
            RegisterInput(
                workflow_id=self._wf_id(),
                seq=seq,
                at=workflow.now(),
                request=self.start,
                assign=assign,
            ),
            start_to_close_timeout=SHORT_STEP,
            retry_policy=SHORT_RETRY,
        )
        self.number = registered.number
        self.registered_at = registered.registered_at
        self._apply(registered.assignment)
        self.sla = registered.sla
        # The clocks run from registration, not from when the database answered: the same
        # clocks the registration wrote to the ledger.
        if self.sla is not None:
            self.clocks += self.sla.first_clocks(
                line=self.line, at=self.registered_at, queue=self.queue, assignee=self.assignee
            )
        self.ready = True

    def _held(self) -> bool:
        """Nobody was free and the rule said to hold the request and try again later."""
        held = self.assignment is not None and self.assignment.retry_after is not None
        return held and self.assignee is None and self.state == State.REGISTERED

    # --- updates -------------------------------------------------------------------------

    @workflow.update
    async def intake(self, data: Intake) -> RequestView:
        await workflow.wait_condition(lambda: self.ready)
        return self.view()

    @intake.validator
    def _check_intake(self, data: Intake) -> None:
        same_body(data.body_hash, self.start.body_hash, "request")

    @workflow.update
    async def act(self, action: Action) -> RequestView:
        await workflow.wait_condition(lambda: self.ready)
        async with self.lock:
            # Checked again: another update may have changed the state while this one waited.
            self._check(action, strict=workflow.patched(TAKE_RULES_PATCH))
            unwritten: list[EventRecord] | None = [] if workflow.patched(STEP_PATCH) else None
            await self._transition(action, unwritten)
            await self._publish_ledger(unwritten)
        return self.view()

    @act.validator
    def _check_act(self, action: Action) -> None:
        self._check(action, strict=True)

    @workflow.signal
    async def requeue(self, data: Requeue) -> None:
        """The assignee went away before starting: the queue chooses again without them."""
        await workflow.wait_condition(lambda: self.ready)
        async with self.lock:
            if self.state != State.ASSIGNED or self.assignee != data.assignee or not self.queue:
                return  # started, moved or taken meanwhile: nothing to give back
            event = self._event("requeue", SYSTEM_ACTOR, State.ASSIGNED, reason=data.reason)
            self._apply(
                await self._assign(AssignInput(event=event, request=self.start, queue=self.queue))
            )
            await self._publish_ledger()

    @workflow.query
    def view(self) -> RequestView:
        return RequestView(
            id=self.start.request_id,
            workflow_id=self._wf_id(),
            number=self.number,
            state=self.state,
            line=self.line,
            queue=self.queue,
            assignee=self.assignee,
            priority=self.priority,
            channel=self.start.channel,
            topic=self.start.topic,
            subtopic=self.start.subtopic,
            subject=self.start.subject,
            customer_id=self.start.customer.id,
            created_by=self.start.created_by.username,
            registered_at=self.registered_at,
            assignment=self.assignment,
            escalations=list(self.hops),
            auto_close_at=self.auto_close_at,
            last_seq=self.seq,
            sla=self._sla_view(),
            resolving_line=self.start.resolving_line,
            external=self.ticket,
        )

    # --- changes -------------------------------------------------------------------------

    async def _transition(self, action: Action, unwritten: list[EventRecord] | None = None) -> None:
        """`unwritten`: the step's event is kept there for one write with its ledger (a step whose
        after-effects start other work — return, hand-off, comment — is recorded at once)."""
        before = (self.state, self.line)
        await self._change(action, unwritten)
        self._follow_clocks(action, *before)
        self._tell_department(action)
        if action.name == "set-priority":
            await self._retarget()

    async def _change(self, action: Action, unwritten: list[EventRecord] | None = None) -> None:
        name = action.name
        if name in ASSIGNING:
            event = self._event(name, action.actor, State.ASSIGNED, reason=action.reason)
            hop = Hop(line=self.line, queue=self.queue, assignee=self.assignee)
            data = AssignInput(
                event=event,
                request=self.start,
                queue=action.queue,
                assignee=action.assignee,
                for_line=action.to_line if name == "escalate" else None,
            )
            assignment = await self._assign(data)
            if name == "escalate":
                self.hops.append(hop)
            self._apply(assignment)
            return
        event = self._event(
            name, action.actor, next_state(name, self.state), reason=action.reason or action.text
        )
        if name in SHAPE:
            SHAPE[name](self, event, action)
        await self._record_with_step(event, None if name in AFTER else unwritten)
        if name in AFTER:
            AFTER[name](self, event, action)
        self.state, self.line, self.queue = event.to_state, event.line, event.queue
        self.assignee, self.priority = event.assignee, event.priority
        if event.assignment is not None:
            self.assignment = event.assignment
        resolved = self.state == State.RESOLVED
        self.auto_close_at = workflow.now() + self.start.auto_close_after if resolved else None

    @workflow.signal(name="customer_merged")
    def customer_merged(self, moved: CustomerMoved) -> None:
        """The customer was merged into another, or a merge undone: the request is theirs."""
        customer = self.start.customer.model_copy(update={"id": moved.customer_id})
        self.start = self.start.model_copy(update={"customer": customer})

    @workflow.signal
    async def ticket_event(self, change: TicketChange) -> None:
        """A change in the external ticket (webhook or poller); duplicates and stale statuses
        are recognised here, where the ticket's applied order is kept."""
        await self._on_ticket_event(change)

    async def _assign(self, data: AssignInput) -> Assignment:
        return await workflow.execute_local_activity_method(
            RequestActivities.assign_request,
            data,
            start_to_close_timeout=SHORT_STEP,
            retry_policy=SHORT_RETRY,
        )

    def _apply(self, assignment: Assignment) -> None:
        self.assignment = assignment
        self.line, self.queue, self.assignee = (
            assignment.line,
            assignment.queue,
            assignment.assignee,
        )
        self.state = State.ASSIGNED if assignment.assignee else State.REGISTERED
        self.retry_at = None
        if assignment.retry_after is not None and assignment.assignee is None:
            self.retry_at = workflow.now() + assignment.retry_after
