"""RequestWorkflow's SLA clocks: opened per line stay, paused, stopped, carried across lines
as the policy says, alarms that warn and breach once, the ledger projected after each step."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.requests import RequestActivities
    from caseflow.payloads import (
        SYSTEM_ACTOR,
        Action,
        EventRecord,
        RecordedStep,
    )
    from caseflow.requests.lifecycle import (
        ESCALATIONS,
        FINAL_STATES,
        OPEN_STATES,
        WORKING,
        Line,
        State,
    )
    from caseflow.sla.terms import Clock, ClockKind, SlaLedger, SlaView, sla_view

from workflows.request_base import SHORT_RETRY, SHORT_STEP, RequestBase

PRIORITY_RANK = {"low": 0, "normal": 1, "high": 2, "critical": 3}
# Before it, the ledger was not projected into the read model after each step.
LEDGER_PATCH = "sla-ledger-projection"

# Before it, every line change opened a first-response clock with a full target, and every
# line change and reopening a resolution clock with a full target. Since: the first
# response is answered once per request, and the policy's `on_line_change` says whether
# the resolution clock continues (default) or restarts.
LINE_CHANGE_PATCH = "sla-line-change-policy"

# Before it, a step wrote its event and then the ledger as of it in two local activities
# (two transactions: between them the read model showed the step with the clocks of before
# it). Since: one local activity, one transaction, for a person's step and an alarm's.
STEP_PATCH = "step-and-ledger-in-one-transaction"


class SlaClocks(RequestBase):
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
        choice = await workflow.execute_local_activity_method(
            RequestActivities.sla_terms,
            current,
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

    async def _sla_alarm(
        self, clock: Clock, what: str, unwritten: list[EventRecord] | None = None
    ) -> None:
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
            await self._record_with_step(event, unwritten)
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
        steps = [step for step in self.sla.on_breach if isinstance(step, dict)]
        # Steps after a breach record events of their own: the breach is written before them.
        await self._record_with_step(event, None if steps else unwritten)
        for step in steps:
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

    async def _publish_ledger(self, unwritten: list[EventRecord] | None = None) -> None:
        """Project every clock, as of the last recorded step, into the read model; with the
        step's `unwritten` events, in the same transaction."""
        if self.sla is None or not workflow.patched(LEDGER_PATCH):
            for event in unwritten or []:
                await self._record(event)
            return
        for clock in self._running():
            clock.queue, clock.assignee = self.queue, self.assignee
        calendar, now = self.sla.calendar.build(), workflow.now()
        ledger = SlaLedger(
            workflow_id=self._wf_id(),
            request_id=self.start.request_id,
            seq=self.seq,
            at=now,
            open=self.state not in FINAL_STATES,
            clocks=[clock.status(calendar, now) for clock in self.clocks],
        )
        if unwritten:
            await workflow.execute_local_activity_method(
                RequestActivities.record_step,
                RecordedStep(events=unwritten, ledger=ledger),
                start_to_close_timeout=SHORT_STEP,
                retry_policy=SHORT_RETRY,
            )
            return
        await workflow.execute_local_activity_method(
            RequestActivities.record_sla_ledger,
            ledger,
            start_to_close_timeout=SHORT_STEP,
            retry_policy=SHORT_RETRY,
        )

    def _sla_view(self) -> SlaView | None:
        if self.sla is None:
            return None
        return sla_view(self.sla, self.clocks, self.sla.calendar.build(), self.line, workflow.now())
