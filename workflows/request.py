"""RequestWorkflow: one customer request from registration to close.

Person actions are updates validated against the lifecycle table before they enter
history; the read model is written by local activities before an update returns, so the
HTTP answer and `GET /requests` agree.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from caseflow.lifecycle import (
        ACTIONS,
        ESCALATIONS,
        FINAL_STATES,
        OPEN_STATES,
        WORKING,
        Line,
        Role,
        State,
        allowed_actions,
        has_line_access,
        may_resolve_on,
        next_state,
        takes_from,
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
        SlaChoice,
    )
    from caseflow.sla_terms import Clock, ClockKind, SlaLedger, SlaTerms, SlaView, sla_view
    from caseflow.ticketing import (
        FINISHED,
        ArticleFetch,
        ExternalTicket,
        TicketChange,
        TicketOrder,
        TicketPost,
        TicketRef,
        remember,
        verdict,
    )
    from workflows.idempotency import same_body

SHORT_STEP = timedelta(seconds=15)
SHORT_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))
ASSIGNING = frozenset({"escalate", "reassign"})
PRIORITY_RANK = {"low": 0, "normal": 1, "high": 2, "critical": 3}
# Patch ids: histories recorded before a change replay down the old path.
LEDGER_PATCH = "sla-ledger-projection"
# The registration activity writes the first ledger itself, in its own transaction: the
# intake's answer no longer waits for a second local activity.
LEDGER_AT_REGISTRATION_PATCH = "ledger-written-at-registration"
# Before it, every line change opened a first-response clock with a full target, and every
# line change and reopening a resolution clock with a full target. Since: the first
# response is answered once per request, and the policy's `on_line_change` says whether
# the resolution clock continues (default) or restarts.
LINE_CHANGE_PATCH = "sla-line-change-policy"
# Since: staff take only from their own queue and never what is already theirs, a topic is
# resolved only on its resolving line or above, and `assignment` follows take and return.
TAKE_RULES_PATCH = "take-own-queue-resolving-line"
# The external system may be down for hours: hand-off and posts retry with backoff, forever,
# unless the system refuses outright.
EXTERNAL_STEP = timedelta(seconds=60)
EXTERNAL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=["ticket_rejected", "unknown_connector"],
)
ARTICLE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=8,
    non_retryable_error_types=["ticket_rejected", "unknown_connector"],
)


def machine(change: TicketChange) -> Actor:
    """Who made an external change, as the case history names them."""
    return Actor(username=f"{change.connector}:{change.author or 'system'}", role=Role.INTEGRATION)


def by_hand(event: EventRecord, rule: str, explanation: str) -> Assignment:
    """Who holds the request after a person's step (take, return), said like routing does."""
    return Assignment(
        line=event.line, queue=event.queue, assignee=event.assignee, rule=rule,
        explanation=explanation,
    )  # fmt: skip


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
        self.retry_at: datetime | None = None
        self.sla: SlaTerms | None = None
        self.clocks: list[Clock] = []
        self.ticket: ExternalTicket | None = None
        self.lock = asyncio.Lock()
        self.tasks: list[asyncio.Task[None]] = []

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
                    await self._ring(alarm)
                    await self._publish_ledger()
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

    async def _ring(self, alarm: tuple[datetime, str, int]) -> None:
        _, what, index = alarm
        if what == "auto-close":
            quiet = self.start.auto_close_after
            await self._transition(
                Action(
                    name="close",
                    actor=SYSTEM_ACTOR,
                    reason=f"no reply for {quiet}; closed automatically",
                )
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
            await self._sla_alarm(self.clocks[index], what)

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
        self.sla = registered.sla
        # The clocks run from registration, not from when the database answered.
        self._open_clocks(("first_response", "resolution"), "registered", at=self.registered_at)
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
            await self._transition(action)
            await self._publish_ledger()
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

    # --- rules ---------------------------------------------------------------------------

    def _check(self, action: Action, *, strict: bool) -> None:
        """Role, line and lifecycle; `strict`: also the rules of TAKE_RULES_PATCH (always in
        the validator, which is never replayed; in the handler once the patch is in)."""
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
        if strict and action.name == "take" and not takes_from(actor.role, actor.team, self.queue):
            raise ApplicationError(
                f"{actor.username} takes from their own queue ({actor.team or 'none'}), "
                f"not from {self.queue}: a supervisor reassigns",
                type="forbidden",
                non_retryable=True,
            )
        reason = self._illegal(action) or (self._house_rule(action) if strict else None)
        if reason:
            raise ApplicationError(
                reason,
                {"allowed": self.allowed_for(actor)},
                type="illegal_transition",
                non_retryable=True,
            )

    def _house_rule(self, action: Action) -> str | None:
        if action.name == "take" and self.assignee == action.actor.username:
            return "this request is already yours"
        if action.name == "resolve" and not may_resolve_on(self.line, self.start.resolving_line):
            return (
                f"{self.start.topic} is resolved on {self.start.resolving_line} or above; "
                f"escalate it from {self.line}"
            )
        return None

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
        if action.name == "handoff":
            if self.line == Line.EXTERNAL:
                return "this request is already with an external department"
            if not (action.system and action.queue):
                return "handoff needs a system and a queue"
        return None

    def _line_access(self, actor: Actor) -> bool:
        return has_line_access(
            role=actor.role,
            lines=actor.lines,
            line=self.line,
            username=actor.username,
            assignee=self.assignee,
            handed_by=self.hops[-1].line if self.hops else None,
        )

    def allowed_for(self, actor: Actor) -> list[str]:
        return allowed_actions(
            state=self.state,
            role=actor.role,
            line_access=self._line_access(actor),
            can_return=bool(self.hops),
            line=self.line,
            mine=self.assignee == actor.username,
            own_queue=takes_from(actor.role, actor.team, self.queue),
            may_resolve=may_resolve_on(self.line, self.start.resolving_line),
        )

    # --- changes -------------------------------------------------------------------------

    async def _transition(self, action: Action) -> None:
        before = (self.state, self.line)
        await self._change(action)
        self._follow_clocks(action, *before)
        self._tell_department(action)
        if action.name == "set-priority":
            await self._retarget()

    async def _change(self, action: Action) -> None:
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
            if action.override_capacity:
                event.data = {"capacity_override": True}
            if workflow.patched(TAKE_RULES_PATCH):
                over = " over capacity" if action.override_capacity else ""
                event.assignment = by_hand(event, "take", f"taken by {event.assignee}{over}")
        elif name == "return":
            back = self.hops[-1]
            event.line, event.queue, event.assignee = back.line, back.queue, back.assignee
            event.to_state = State.ASSIGNED if back.assignee else State.REGISTERED
            if workflow.patched(TAKE_RULES_PATCH):
                why = f": {action.reason}" if action.reason else ""
                event.assignment = by_hand(
                    event,
                    "return",
                    f"returned from {self.line} by {action.actor.username} to whoever held it "
                    f"on {back.line}{why}",
                )
        elif name == "set-priority":
            event.priority = action.priority or self.priority
            event.data = {"from": self.priority, "to": event.priority}
        elif name == "comment":
            event.data = {"public": action.public}
            if action.files:
                event.data["files"] = [f.model_dump() for f in action.files]
        elif name == "handoff":
            event.line, event.queue = Line.EXTERNAL, f"{action.system}:{action.queue}"
            event.to_state = State.ASSIGNED
            event.data = {"system": action.system, "queue": action.queue, "ticket": "pending"}
        await self._record(event)
        if name == "return":
            self.hops.pop()
        elif name == "handoff":
            self.hops.append(Hop(line=self.line, queue=self.queue, assignee=self.assignee))
            assert action.system is not None and action.queue is not None
            self.ticket = ExternalTicket(
                connector=action.system,
                queue=action.queue,
                note=action.text or "",
                closure="return_to_line",
            )
            self._spawn(self._open_ticket(self.ticket))
        elif name == "comment" and (action.public or action.share) and self.ticket is not None:
            # The department hears the case's public replies (and gets files attached in
            # Caseflow) even after giving it back.
            if self.ticket.failed is None:
                post = self._post_to_ticket(self.ticket, event.seq, action, public=action.public)
                self._spawn(post)
        self.state, self.line, self.queue = event.to_state, event.line, event.queue
        self.assignee, self.priority = event.assignee, event.priority
        if event.assignment is not None:
            self.assignment = event.assignment
        resolved = self.state == State.RESOLVED
        self.auto_close_at = workflow.now() + self.start.auto_close_after if resolved else None

    # --- external tickets ------------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Long work (an external system may be down for hours) runs beside the handlers."""
        self.tasks.append(asyncio.create_task(work))

    async def _open_ticket(self, ticket: ExternalTicket) -> None:
        """Create the ticket (the activity finds one an earlier attempt made), then link it."""
        order = TicketOrder(
            connector=ticket.connector,
            ref=self.start.request_id,
            number=self.number or self.start.request_id,
            queue=ticket.queue,
            subject=self.start.subject,
            body=f"{ticket.note}\n\n{self.start.description}".strip(),
            priority=self.priority,
            request_id=self.start.request_id,
            workflow_id=self._wf_id(),
            topic=self.start.topic,
        )
        try:
            ref = await workflow.execute_activity(
                "open_ticket",
                order,
                result_type=TicketRef,
                start_to_close_timeout=EXTERNAL_STEP,
                retry_policy=EXTERNAL_RETRY,
            )
        except ActivityError as exc:
            await self._handoff_failed(ticket, str(exc.cause or exc))
            return
        async with self.lock:
            ticket.ticket_id, ticket.number, ticket.url = ref.ticket_id, ref.number, ref.url
            ticket.closure, ticket.status = ref.closure, "new"
            event = self._event(
                "ticket-opened",
                SYSTEM_ACTOR,
                self.state,
                reason=f"{ticket.connector} ticket {ref.number} in {ticket.queue}",
            )
            event.data = {**ref.model_dump(), "connector": ticket.connector}
            await self._record(event)

    async def _handoff_failed(self, ticket: ExternalTicket, why: str) -> None:
        async with self.lock:
            ticket.failed, ticket.active = why, False
            reason = f"{ticket.connector} refused the ticket: {why}"
            event = self._event("handoff-failed", SYSTEM_ACTOR, self.state, reason=reason)
            event.data = {"connector": ticket.connector, "queue": ticket.queue}
            await self._record(event)
            if self.line == Line.EXTERNAL and self.state in WORKING and self.hops:
                back = Action(name="return", actor=SYSTEM_ACTOR, reason=reason)
                await self._transition(back)
            await self._publish_ledger()

    def _tell_department(self, action: Action) -> None:
        """The case was taken back from the department in Caseflow (returned, reassigned,
        cancelled): the ticket gets an internal note saying so, and follows no more."""
        ticket = self.ticket
        if ticket is None or not ticket.active or ticket.failed is not None:
            return
        if self.line == Line.EXTERNAL and self.state not in FINAL_STATES:
            return
        ticket.active = False
        why = action.reason or action.text or "-"
        note = Action(
            name="comment",
            actor=action.actor,
            text=f"Caseflow: {action.name} by {action.actor.username}: {why}",
        )
        closing = self.state in FINAL_STATES
        self._spawn(self._post_to_ticket(ticket, self.seq, note, public=False, close=closing))

    async def _post_to_ticket(
        self,
        ticket: ExternalTicket,
        seq: int,
        action: Action,
        *,
        public: bool = True,
        close: bool = False,
    ) -> None:
        """A public comment (and its files) to the ticket, once the ticket exists."""
        await workflow.wait_condition(lambda: not ticket.pending)
        if ticket.ticket_id is None:
            return  # the hand-off failed: the comment stays in Caseflow
        post = TicketPost(
            connector=ticket.connector,
            ticket_id=ticket.ticket_id,
            key=f"{self._wf_id()}:{seq}",
            text=action.text or "",
            public=public,
            files=action.files,
            close=close,
        )
        try:
            pushed = await workflow.execute_activity(
                "post_to_ticket",
                post,
                result_type=str | None,  # type: ignore[arg-type]
                start_to_close_timeout=EXTERNAL_STEP,
                retry_policy=EXTERNAL_RETRY,
            )
            if pushed is not None:  # its echo coming back is not a change
                ticket.pushed_status = pushed
        except ActivityError as exc:  # refused: say so in the case, keep going
            async with self.lock:
                why = f"{ticket.connector} refused the comment: {exc.cause or exc}"
                await self._record(
                    self._event("external-post-failed", SYSTEM_ACTOR, self.state, why)
                )

    @workflow.signal
    async def ticket_event(self, change: TicketChange) -> None:
        """A change in the external ticket (webhook or poller); duplicates and stale statuses
        are recognised here, where the ticket's applied order is kept."""
        await workflow.wait_condition(lambda: self.ready)
        # The ticket's link is written before its creation returns: a change can arrive first.
        await workflow.wait_condition(lambda: self.ticket is None or not self.ticket.pending)
        async with self.lock:
            ticket = self.ticket
            judged = verdict(ticket, change)
            if ticket is None or judged in ("duplicate", "other_ticket"):
                return
            remember(ticket, change.event_id)
            before = (self.state, self.line)
            if change.kind == "article":
                for item in await self._fetch_articles(ticket):
                    await self._ticket_article(ticket, item)
            elif change.kind in ("reply", "note"):
                await self._ticket_article(ticket, change)
            elif judged != "echo":
                await self._ticket_status(ticket, change, stale=judged == "stale")
            if (self.state, self.line) != before:  # only a move touches the clocks
                await self._publish_ledger()

    async def _fetch_articles(self, ticket: ExternalTicket) -> list[TicketChange]:
        assert ticket.ticket_id is not None
        fetch = ArticleFetch(
            connector=ticket.connector,
            ticket_id=ticket.ticket_id,
            request_id=self.start.request_id,
            known=list(ticket.articles),
        )
        try:
            return await workflow.execute_activity(
                "fetch_articles",
                fetch,
                result_type=list[TicketChange],
                start_to_close_timeout=EXTERNAL_STEP,
                retry_policy=ARTICLE_RETRY,
            )
        except ActivityError as exc:
            event = self._event(
                "external-unreadable",
                SYSTEM_ACTOR,
                self.state,
                reason=f"new articles in {ticket.connector} could not be read: {exc.cause or exc}",
            )
            await self._record(event)
            return []

    async def _ticket_article(self, ticket: ExternalTicket, item: TicketChange) -> None:
        if item.external_id is not None:
            if item.external_id in ticket.articles:
                return
            ticket.articles.append(item.external_id)
        event = self._event(f"external-{item.kind}", machine(item), self.state, reason=item.text)
        event.data = {
            "connector": item.connector,
            "ticket_id": item.ticket_id,
            "external_id": item.external_id,
            "files": [f.model_dump() for f in item.files],
            "refused_files": item.refused_files,
        }
        await self._record(event)

    async def _ticket_status(
        self, ticket: ExternalTicket, change: TicketChange, stale: bool
    ) -> None:
        actor = Actor(
            username=f"{change.connector}:{change.author or 'system'}", role=Role.INTEGRATION
        )
        data = {"connector": change.connector, "status": change.status, "order": change.order}
        if stale:
            reason = f"{change.status} is older than {ticket.status}; recorded, not applied"
            event = self._event("external-status", actor, self.state, reason=reason)
            event.data = {**data, "stale": True}
            await self._record(event)
            return
        ticket.status, ticket.meaning, ticket.last_order = (
            change.status,
            change.meaning,
            change.order,
        )
        event = self._event(
            "external-status", actor, self.state, reason=f"ticket is {change.status}"
        )
        event.data = {**data, "meaning": change.meaning}
        await self._record(event)
        finished = change.meaning in FINISHED
        if not (finished and ticket.active and self.line == Line.EXTERNAL):
            return
        ticket.active = False
        reason = f"{change.connector} ticket {ticket.number} {change.status}"
        if ticket.closure == "close_case":
            await self._transition(Action(name="close", actor=actor, reason=reason))
        elif self.state in WORKING and self.hops:
            await self._transition(Action(name="return", actor=actor, reason=reason))

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
        self.retry_at = None
        if assignment.retry_after is not None and assignment.assignee is None:
            self.retry_at = workflow.now() + assignment.retry_after

    # --- SLA clocks ----------------------------------------------------------------------

    def _open_clocks(
        self,
        kinds: tuple[ClockKind, ...],
        because: str,
        at: datetime | None = None,
        carried: dict[str, timedelta] | None = None,
    ) -> None:
        """A new segment: the line's targets for each kind of clock, from `at`."""
        if self.sla is None:
            return
        self.clocks += self.sla.open_segment(
            kinds,
            line=self.line,
            at=at or workflow.now(),
            segment=max((c.segment for c in self.clocks), default=0) + 1,
            because=because,
            queue=self.queue,
            assignee=self.assignee,
            carried=carried,
        )

    def _carried(self, clocks: list[Clock], now: datetime) -> dict[str, timedelta]:
        """Business time the clocks have used, by kind, if the policy says to continue."""
        if self.sla is None or self.sla.on_line_change != "continue":
            return {}
        calendar = self.sla.calendar.build()
        return {clock.kind: clock.elapsed(calendar, now) for clock in clocks}

    def _answered(self) -> bool:
        return any(c.kind == "first_response" and c.stop_reason == "answered" for c in self.clocks)

    def _running(self, kind: ClockKind | None = None) -> list[Clock]:
        return [c for c in self.clocks if c.stopped_at is None and (kind is None or c.kind == kind)]

    def _follow_clocks(self, action: Action, state_before: State, line_before: Line) -> None:
        """Start, pause, resume and stop clocks as the request moves."""
        if self.sla is None:
            return
        now = workflow.now()
        if self.line != line_before:  # a new line: a new segment with its own targets
            kinds: tuple[ClockKind, ...] = ("first_response", "resolution")
            carried: dict[str, timedelta] = {}
            if workflow.patched(LINE_CHANGE_PATCH):
                carried = self._carried(self._running(), now)
                if self._answered():
                    kinds = ("resolution",)
            for clock in self._running():
                clock.stop(now, f"{action.name}: moved to {self.line}")
            self._open_clocks(kinds, f"{action.name} from {line_before}", carried=carried)
        answered = action.name == "start" or (action.name == "comment" and action.public)
        if answered or self.state == State.RESOLVED or self.state in FINAL_STATES:
            for clock in self._running("first_response"):
                clock.stop(now, "answered" if answered else str(self.state))
        waiting = State.WAITING_CUSTOMER
        if self.state == waiting and state_before != waiting and waiting in self.sla.pause_on:
            for clock in self._running("resolution"):
                clock.pause(now)
        if state_before == waiting and self.state != waiting:
            for clock in self._running("resolution"):
                clock.resume(now)
        if self.state == State.RESOLVED or self.state in FINAL_STATES:
            for clock in self._running():
                clock.stop(now, str(self.state))
        if action.name == "reopen":
            carried = {}
            if workflow.patched(LINE_CHANGE_PATCH):
                resolved = [c for c in self.clocks if c.kind == "resolution"][-1:]
                carried = self._carried(resolved, now)
            self._open_clocks(("resolution",), "reopened", carried=carried)

    async def _retarget(self) -> None:
        """Another priority may mean another policy: new targets, elapsed time kept."""
        if self.sla is None:
            return
        current = self.start.model_copy(update={"priority": self.priority})
        choice = await workflow.execute_local_activity(
            "sla_terms",
            current,
            result_type=SlaChoice,
            start_to_close_timeout=SHORT_STEP,
            retry_policy=SHORT_RETRY,
        )
        if choice.terms is None or choice.terms.policy == self.sla.policy:
            return
        self.sla = choice.terms
        for clock in self._running():
            target = self.sla.target(clock.line, clock.kind)
            if target is not None:
                clock.target, clock.policy = target, self.sla.policy

    async def _sla_alarm(self, clock: Clock, what: str) -> None:
        assert self.sla is not None
        now = workflow.now()
        details = {
            "clock": clock.kind,
            "line": clock.line,
            "policy": clock.policy,
            "target": clock.target.total_seconds(),
        }
        if what == "warning":
            clock.warned_at = now
            event = self._event(
                "sla-warning",
                SYSTEM_ACTOR,
                self.state,
                reason=f"{clock.kind} on {clock.line} has used "
                f"{self.sla.warn_at:.0%} of {clock.target}",
            )
            event.data = {**details, "notify": ["assignee"]}
            await self._record(event)
            return
        clock.breached_at = now
        clock.warned_at = clock.warned_at or now
        notify = [a.removeprefix("notify_") for a in self.sla.on_breach if isinstance(a, str)]
        event = self._event(
            "sla-breach",
            SYSTEM_ACTOR,
            self.state,
            reason=f"{clock.kind} target {clock.target} on {clock.line} passed",
        )
        event.data = {**details, "notify": notify}
        await self._record(event)
        for step in self.sla.on_breach:
            if isinstance(step, dict):
                await self._breach_step(step)

    async def _breach_step(self, step: dict[str, str]) -> None:
        reason = "SLA breached"
        try:
            if "raise_priority" in step:
                wanted = step["raise_priority"]
                if PRIORITY_RANK.get(wanted, 0) > PRIORITY_RANK.get(self.priority, 0):
                    await self._transition(
                        Action(
                            name="set-priority", actor=SYSTEM_ACTOR, priority=wanted, reason=reason
                        )
                    )
            elif "escalate" in step:
                to_line = Line(step["escalate"])
                if self.state in WORKING and to_line in ESCALATIONS.get(self.line, frozenset()):
                    await self._transition(
                        Action(name="escalate", actor=SYSTEM_ACTOR, to_line=to_line, reason=reason)
                    )
            elif "reassign_queue" in step and self.state in OPEN_STATES:
                await self._transition(
                    Action(
                        name="reassign",
                        actor=SYSTEM_ACTOR,
                        queue=step["reassign_queue"],
                        reason=reason,
                    )
                )
        except ActivityError as exc:  # a policy naming a queue nobody staffs: say so, go on
            workflow.logger.warning("SLA breach step %s failed: %s", step, exc)

    async def _publish_ledger(self) -> None:
        """Project every clock, as of the last recorded step, into the read model."""
        if self.sla is None or not workflow.patched(LEDGER_PATCH):
            return
        for clock in self._running():
            clock.queue, clock.assignee = self.queue, self.assignee
        calendar, now = self.sla.calendar.build(), workflow.now()
        await workflow.execute_local_activity(
            "record_sla_ledger",
            SlaLedger(
                workflow_id=self._wf_id(),
                request_id=self.start.request_id,
                seq=self.seq,
                at=now,
                open=self.state not in FINAL_STATES,
                clocks=[clock.status(calendar, now) for clock in self.clocks],
            ),
            start_to_close_timeout=SHORT_STEP,
            retry_policy=SHORT_RETRY,
        )

    def _sla_view(self) -> SlaView | None:
        if self.sla is None:
            return None
        return sla_view(self.sla, self.clocks, self.sla.calendar.build(), self.line, workflow.now())

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
