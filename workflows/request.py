"""RequestWorkflow: one customer request from registration to close.

Person actions are updates validated against the lifecycle table before they enter
history; the read model is written by local activities before an update returns, so the
HTTP answer and `GET /requests` agree.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from caseflow.lifecycle import (
        ACTIONS,
        ESCALATIONS,
        FINAL_STATES,
        OVERSEERS,
        Line,
        Role,
        State,
        allowed_actions,
        next_state,
    )
    from caseflow.payloads import (
        SYSTEM_ACTOR,
        Action,
        Actor,
        AssignInput,
        Assignment,
        EventRecord,
        Hop,
        Intake,
        Registered,
        RegisterInput,
        RequestStart,
        RequestView,
        Requeue,
    )

SHORT_STEP = timedelta(seconds=15)
SHORT_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))
ASSIGNING = frozenset({"escalate", "reassign"})


@workflow.defn
class RequestWorkflow:
    @workflow.init
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
        self.lock = asyncio.Lock()

    @workflow.run
    async def run(self, start: RequestStart) -> RequestView:
        async with self.lock:
            await self._register()
        while self.state not in FINAL_STATES:
            await workflow.wait_condition(
                lambda: self.state in FINAL_STATES | {State.RESOLVED} or self._held()
            )
            if self.state == State.RESOLVED:
                await self._auto_close_when_quiet()
            elif self._held():
                await self._retry_assignment()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.view()

    async def _register(self) -> None:
        seq = self._next_seq()
        assign = AssignInput(
            event=self._event("assign", self.start.created_by, State.ASSIGNED),
            request=self.start,
        )
        registered = await workflow.execute_local_activity(
            "register_request",
            RegisterInput(
                workflow_id=self._wf_id(),
                seq=seq,
                at=workflow.now(),
                request=self.start,
                assign=assign,
            ),
            result_type=Registered,
            start_to_close_timeout=SHORT_STEP,
            retry_policy=SHORT_RETRY,
        )
        self.number = registered.number
        self.registered_at = registered.registered_at
        self._apply(registered.assignment)
        self.ready = True

    async def _auto_close_when_quiet(self) -> None:
        quiet = self.start.auto_close_after
        try:
            await workflow.wait_condition(lambda: self.state != State.RESOLVED, timeout=quiet)
        except TimeoutError:
            async with self.lock:
                if self.state == State.RESOLVED:
                    await self._transition(
                        Action(
                            name="close",
                            actor=SYSTEM_ACTOR,
                            reason=f"no reply for {quiet}; closed automatically",
                        )
                    )

    def _held(self) -> bool:
        """Nobody was free and the rule said to hold the request and try again later."""
        held = self.assignment is not None and self.assignment.retry_after is not None
        return held and self.assignee is None and self.state == State.REGISTERED

    async def _retry_assignment(self) -> None:
        assert self.assignment is not None and self.assignment.retry_after is not None
        pause = self.assignment.retry_after
        try:
            # Anyone taking the request, or a supervisor assigning it, ends the hold.
            await workflow.wait_condition(lambda: not self._held(), timeout=pause)
        except TimeoutError:
            async with self.lock:
                if self._held():
                    event = self._event(
                        "retry-assign",
                        SYSTEM_ACTOR,
                        State.ASSIGNED,
                        reason=f"nobody was free; tried again after {pause}",
                    )
                    data = AssignInput(event=event, request=self.start, for_line=self.line)
                    self._apply(await self._assign(data))

    # --- updates -------------------------------------------------------------------------

    @workflow.update
    async def intake(self, data: Intake) -> RequestView:
        await workflow.wait_condition(lambda: self.ready)
        return self.view()

    @intake.validator
    def _check_intake(self, data: Intake) -> None:
        if data.body_hash != self.start.body_hash:
            raise ApplicationError(
                "this Idempotency-Key was used for another request",
                type="idempotency_key_reused",
                non_retryable=True,
            )

    @workflow.update
    async def act(self, action: Action) -> RequestView:
        await workflow.wait_condition(lambda: self.ready)
        async with self.lock:
            # Checked again: another update may have changed the state while this one waited.
            self._check(action)
            await self._transition(action)
        return self.view()

    @act.validator
    def _check_act(self, action: Action) -> None:
        self._check(action)

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
        )

    # --- rules ---------------------------------------------------------------------------

    def _check(self, action: Action) -> None:
        rule = ACTIONS.get(action.name)
        if rule is None:
            raise ApplicationError(
                f"unknown action '{action.name}'", type="unknown_action", non_retryable=True
            )
        actor = action.actor
        if actor.role not in rule.roles:
            raise ApplicationError(
                f"the {actor.role} role may not {action.name}", type="forbidden", non_retryable=True
            )
        if not self._line_access(actor):
            raise ApplicationError(
                f"{actor.username} does not work line {self.line}",
                type="forbidden",
                non_retryable=True,
            )
        reason = self._illegal(action)
        if reason:
            raise ApplicationError(
                reason,
                {"allowed": self.allowed_for(actor)},
                type="illegal_transition",
                non_retryable=True,
            )

    def _illegal(self, action: Action) -> str | None:
        if self.state not in ACTIONS[action.name].sources:
            return f"cannot {action.name} a request that is {self.state}"
        if action.name == "escalate":
            targets = ESCALATIONS.get(self.line, frozenset())
            if action.to_line not in targets:
                return f"cannot escalate from {self.line} to {action.to_line}"
        if action.name == "return" and not self.hops:
            return "this request was not escalated; there is no line to return it to"
        if action.name == "reassign" and not (action.assignee or action.queue):
            return "reassign needs an assignee or a queue"
        if action.name == "set-priority" and not action.priority:
            return "set-priority needs a priority"
        return None

    def _line_access(self, actor: Actor) -> bool:
        return actor.role in OVERSEERS | {Role.INTEGRATION, Role.SYSTEM} or self.line in actor.lines

    def allowed_for(self, actor: Actor) -> list[str]:
        return allowed_actions(
            state=self.state,
            role=actor.role,
            line_access=self._line_access(actor),
            can_return=bool(self.hops),
            line=self.line,
        )

    # --- changes -------------------------------------------------------------------------

    async def _transition(self, action: Action) -> None:
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
        if name == "take":
            event.assignee = action.actor.username
            event.to_state = State.ASSIGNED
        elif name == "return":
            back = self.hops[-1]
            event.line, event.queue, event.assignee = back.line, back.queue, back.assignee
            event.to_state = State.ASSIGNED if back.assignee else State.REGISTERED
        elif name == "set-priority":
            event.priority = action.priority or self.priority
            event.data = {"from": self.priority, "to": event.priority}
        elif name == "comment":
            event.data = {"public": action.public}
        await self._record(event)
        if name == "return":
            self.hops.pop()
        self.state, self.line, self.queue = event.to_state, event.line, event.queue
        self.assignee, self.priority = event.assignee, event.priority
        resolved = self.state == State.RESOLVED
        self.auto_close_at = workflow.now() + self.start.auto_close_after if resolved else None

    async def _assign(self, data: AssignInput) -> Assignment:
        return await workflow.execute_local_activity(
            "assign_request",
            data,
            result_type=Assignment,
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

    async def _record(self, event: EventRecord) -> None:
        await workflow.execute_local_activity(
            "record_request_event",
            event,
            start_to_close_timeout=SHORT_STEP,
            retry_policy=SHORT_RETRY,
        )

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
