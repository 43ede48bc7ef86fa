"""DealWorkflow: one deal through its pipeline's stages, with the manager's tasks.

Entering a stage generates its tasks (due in business time on the pipeline's calendar).
`advance` is refused while required fields, cross-field rules or blocking tasks are
unmet — with every reason. Task reminders and overdue notices ring on durable timers,
once each. The whole state is carried across continue-as-new before history grows long.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Literal

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.deals import DealActivities
    from caseflow.customers.merge_terms import CustomerMoved
    from caseflow.deals.gates import (
        DealAction,
        DealEvent,
        DealSnapshot,
        DealStart,
        DealState,
        DealView,
        Missing,
        Task,
        facts,
        gate,
        stage_tasks,
    )
    from caseflow.deals.steps import illegal
    from caseflow.payloads import SYSTEM_ACTOR, Actor, Intake
    from caseflow.requests.lifecycle import Role
    from workflows.idempotency import same_body
    from workflows.retries import SHORT_RETRY, SHORT_STEP

CHANGERS = frozenset({Role.MANAGER, Role.SUPERVISOR, Role.ADMIN})
# Deals started before this patch let any changer close any task; from it on, a task is
# closed by its assignee, the deal's supervisor or an admin, records who closed it, and
# approval fields are set only by completing the approval task.
TASK_CLOSERS = "deal-task-closers"
TASK_ACTIONS = frozenset({"complete_task", "cancel_task"})


@workflow.defn
class DealWorkflow:
    @workflow.init
    def __init__(self, start: DealStart) -> None:
        self.start = start
        self.s: DealState | None = start.carried
        self.events: list[DealEvent] = []
        self.notices: list[dict[str, object]] = []
        self.lock = asyncio.Lock()

    @workflow.run
    async def run(self, start: DealStart) -> DealView:
        async with self.lock:
            if self.s is None:
                registered = await workflow.execute_local_activity_method(
                    DealActivities.register_deal,
                    start.model_copy(update={"at": workflow.now()}),
                    start_to_close_timeout=SHORT_STEP,
                    retry_policy=SHORT_RETRY,
                )
                self.s = DealState(
                    terms=registered.terms,
                    people=registered.people,
                    fields=dict(start.fields),
                    created_at=registered.created_at,
                )
                self._event("create", start.owner, reason=start.title)
                # The first stage's tasks are due from the deal's creation, as it is shown.
                self._enter(0, at=registered.created_at)
                await self._project()
        while self.state.status == "open":
            async with self.lock:
                seen = self.state.seq
                alarm = self._next_alarm()
                if alarm is not None and alarm[0] <= workflow.now():
                    self._ring(alarm[1], alarm[2])
                    await self._project()
                    continue
                if workflow.info().get_current_history_length() > start.max_history:
                    break
            try:
                await workflow.wait_condition(
                    lambda seen=seen: self.state.seq != seen,  # type: ignore[misc]
                    timeout=None if alarm is None else alarm[0] - workflow.now(),
                )
            except TimeoutError:
                pass
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self.state.status == "open":
            self.state.runs += 1
            workflow.continue_as_new(start.model_copy(update={"carried": self.state}))
        return self.view()

    @property
    def state(self) -> DealState:
        assert self.s is not None
        return self.s

    # --- updates and queries -------------------------------------------------------------

    @workflow.update
    async def create(self, intake: Intake) -> DealView:
        await workflow.wait_condition(lambda: self.s is not None)
        return self.view()

    @create.validator
    def _check_create(self, intake: Intake) -> None:
        same_body(intake.body_hash, self.start.body_hash, "deal")

    @workflow.update
    async def act(self, action: DealAction) -> DealView:
        await workflow.wait_condition(lambda: self.s is not None)
        async with self.lock:
            strict = workflow.patched(TASK_CLOSERS)
            self._check(action, strict=strict)
            self._apply(action, strict=strict)
            await self._project()
        return self.view()

    @act.validator
    def _check_act(self, action: DealAction) -> None:
        if self.s is not None:
            self._check(action)

    @workflow.signal(name="customer_merged")
    def customer_merged(self, moved: CustomerMoved) -> None:
        """The customer was merged into another, or a merge undone: the deal is theirs (its
        gates read the profile sent with each move, the survivor's from now on)."""
        self.start = self.start.model_copy(update={"customer_id": moved.customer_id})

    @workflow.query
    def view(self) -> DealView:
        s = self.state
        stage = s.terms.stages[s.stage]
        return DealView(
            id=self.start.deal_id,
            workflow_id=workflow.info().workflow_id,
            pipeline=s.terms.name,
            title=self.start.title,
            owner=self.start.owner.username,
            customer_id=self.start.customer_id,
            amount=self.start.amount,
            currency=self.start.currency,
            stage=stage.code,
            stage_title=stage.title,
            status=s.status,
            fields=s.fields,
            tasks=s.tasks,
            missing=self._missing() if s.status == "open" else [],
            created_at=s.created_at,
            runs=s.runs,
            last_seq=s.seq,
        )

    # --- rules ---------------------------------------------------------------------------

    def _missing(self, customer: dict[str, object] | None = None) -> list[Missing]:
        """`customer`: a fresher profile than the one the deal knows (sent with an action)."""
        s = self.state
        profile = customer if customer is not None else s.customer
        return gate(s.terms.stages[s.stage], facts(self.start, s.fields, profile), s.tasks)

    def _refuse(self, kind: str, message: str, **details: object) -> ApplicationError:
        return ApplicationError(message, details, type=kind, non_retryable=True)

    def _check(self, action: DealAction, strict: bool = True) -> None:
        """`strict`: today's rules (validators never run on replay, so they always are)."""
        s, actor = self.state, action.actor
        if strict and action.name in TASK_ACTIONS:
            task = next((t for t in s.tasks if t.id == action.task_id), None)
            if task is not None and not self._may_close(task, actor):
                raise self._refuse(
                    "forbidden",
                    f"task {task.id} is closed by its assignee ({task.assignee}), the deal's "
                    "supervisor or an admin",
                )
        elif actor.role not in CHANGERS or (
            actor.role == Role.MANAGER and actor.username != self.start.owner.username
        ):
            raise self._refuse("forbidden", f"{actor.username} may not change this deal")
        guarded = sorted(set(action.fields) & set(s.terms.approval_fields))
        if strict and action.name == "patch" and guarded:
            raise self._refuse(
                "forbidden",
                f"{', '.join(guarded)}: set by completing the approval task, not by hand",
                fields=guarded,
            )
        refused = illegal(action, s, lambda: self._missing(action.customer))
        if refused is not None:
            raise self._refuse(refused.kind, refused.message, **refused.details)

    def _may_close(self, task: Task, actor: Actor) -> bool:
        return (
            actor.username in (task.assignee, self.state.people.get("supervisor"))
            or actor.role == Role.ADMIN
        )

    # --- changes -------------------------------------------------------------------------

    def _apply(self, action: DealAction, strict: bool = True) -> None:
        s, now = self.state, workflow.now()
        if action.customer is not None:
            s.customer = action.customer
        if action.name == "advance":
            self._leave(f"advanced to {s.terms.stages[s.stage + 1].code}", scope="forward")
            self._event("advance", action.actor)
            self._enter(s.stage + 1)
        elif action.name == "back":
            assert action.to_stage is not None
            self._leave(f"moved back: {action.reason}", scope="back")
            self._event("back", action.actor, reason=action.reason)
            self._enter(s.terms.index(action.to_stage))
        elif action.name in ("win", "lose"):
            self._leave(f"deal {action.name}", scope="deal")
            s.status = "won" if action.name == "win" else "lost"
            s.closed_reason = action.reason
            self._event(action.name, action.actor, reason=action.reason)
        elif action.name == "patch":
            before = {k: s.fields.get(k) for k in action.fields}
            s.fields.update(action.fields)
            self._event("patch", action.actor, data={"from": before, "to": action.fields})
        else:
            task = next(t for t in s.tasks if t.id == action.task_id)
            task.status = "done" if action.name == "complete_task" else "cancelled"
            task.result, task.closed_at, task.reason = action.result, now, action.reason
            if strict:
                task.closed_by = action.actor.username
                if task.type == "approval" and action.name == "complete_task":
                    approval = action.result or f"task {task.id}, {action.actor.username}"
                    s.fields.update({name: approval for name in s.terms.approval_fields})
            self._event(action.name, action.actor, data={"task": task.id, "result": task.result})

    def _enter(self, index: int, at: datetime | None = None) -> None:
        s = self.state
        s.stage = index
        stage = s.terms.stages[index]
        new = stage_tasks(s.terms, stage, s.people, at or workflow.now(), s.next_task)
        s.next_task += len(new)
        s.tasks.extend(new)
        self._event("enter", SYSTEM_ACTOR, data={"tasks": [t.id for t in new]})

    def _leave(self, reason: str, *, scope: Literal["forward", "back", "deal"]) -> None:
        """Cancel, with why, what nobody will finish now: going forward, the stage's optional
        tasks (its blocking ones are done); going back, all of the stage's; closing the
        deal, every open task."""
        s, now = self.state, workflow.now()
        code = s.terms.stages[s.stage].code
        for task in s.tasks:
            left = scope == "deal" or (
                task.stage == code and (scope == "back" or not task.blocking)
            )
            if task.status == "open" and left:
                task.status, task.closed_at, task.reason = "cancelled", now, reason
        # Old closed tasks stay in the read model; the workflow keeps only what is recent.
        closed = [t for t in s.tasks if t.status != "open"]
        if len(closed) > 50:
            keep = {t.id for t in closed[-50:]}
            s.tasks = [t for t in s.tasks if t.status == "open" or t.id in keep]

    def _next_alarm(self) -> tuple[datetime, str, int] | None:
        alarms = []
        for task in self.state.tasks:
            if task.status != "open":
                continue
            if task.reminder_at is not None and task.reminded_at is None:
                alarms.append((task.reminder_at, "reminder", task.id))
            elif task.overdue_at is None:
                alarms.append((task.due_at, "overdue", task.id))
        return min(alarms, default=None)

    def _ring(self, what: str, task_id: int) -> None:
        s, now = self.state, workflow.now()
        task = next(t for t in s.tasks if t.id == task_id)
        if what == "reminder":
            task.reminded_at = now
            to = task.assignee
        else:
            task.overdue_at = now
            to = s.people["supervisor"]
        self._event(f"task-{what}", SYSTEM_ACTOR, data={"task": task.id, "to": to})
        self.notices.append({"to": to, "event": f"deal_task_{what}", "task": task.id})

    def _event(
        self,
        action: str,
        actor: Actor,
        reason: str | None = None,
        data: dict[str, object] | None = None,
    ) -> None:
        s = self.state
        s.seq += 1
        self.events.append(
            DealEvent(
                seq=s.seq,
                at=workflow.now(),
                actor=actor.username,
                action=action,
                stage=s.terms.stages[s.stage].code,
                reason=reason,
                data=data or {},
            )
        )

    async def _project(self) -> None:
        """Write the deal, its tasks and the new events to the read model; send notices."""
        events, notices = self.events, self.notices
        self.events, self.notices = [], []
        await workflow.execute_local_activity_method(
            DealActivities.project_deal,
            DealSnapshot(view=self.view(), events=events, notices=notices),
            start_to_close_timeout=SHORT_STEP,
            retry_policy=SHORT_RETRY,
        )
