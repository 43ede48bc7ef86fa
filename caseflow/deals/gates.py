"""Deals as workflows hold them: plain data, stage gates and task generation, no I/O."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from caseflow.deals.pipelines import PipelineTerms, Stage
from caseflow.payloads import Actor
from caseflow.routing.conditions import compile_when

DealStatus = Literal["open", "won", "lost"]
TaskStatus = Literal["open", "done", "cancelled"]


class Task(BaseModel):
    id: int
    stage: str
    title: str
    type: str
    assignee_role: str
    assignee: str
    due_at: datetime
    reminder_at: datetime | None = None
    blocking: bool
    status: TaskStatus = "open"
    result: str | None = None
    reminded_at: datetime | None = None
    overdue_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    reason: str | None = None


class Missing(BaseModel):
    """One reason a stage cannot be left: a field, a conflict between fields, or a task.
    (The API contract promises `field` or `task` on each; a conflict names all its fields.)"""

    field: str | None = None
    fields: list[str] = Field(default_factory=list)
    task: int | None = None
    reason: str


class DealEvent(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    stage: str
    reason: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class DealStart(BaseModel):
    deal_id: str
    pipeline: str
    title: str
    owner: Actor
    customer: dict[str, Any] = Field(description="customer facts for gates: inn, kpp, segment…")
    customer_id: str
    amount: float | None = None
    currency: str = "RUB"
    fields: dict[str, Any] = Field(default_factory=dict)
    body_hash: str
    max_history: int = Field(default=1500, description="continue as new beyond this")
    carried: DealState | None = None
    at: datetime | None = Field(
        default=None, description="set by the workflow: the deal is created at its time"
    )


class DealState(BaseModel):
    """Everything a deal is; carried whole across continue-as-new."""

    terms: PipelineTerms
    people: dict[str, str] = Field(description="owner, supervisor, legal → usernames")
    stage: int = 0
    status: DealStatus = "open"
    fields: dict[str, Any] = Field(default_factory=dict)
    tasks: list[Task] = Field(default_factory=list)
    seq: int = 0
    next_task: int = 1
    created_at: datetime
    closed_reason: str | None = None
    runs: int = 1
    customer: dict[str, Any] | None = Field(
        default=None, description="the profile as last sent with an action (else the start's)"
    )


class DealView(BaseModel):
    id: str
    workflow_id: str
    pipeline: str
    title: str
    owner: str
    customer_id: str
    amount: float | None
    currency: str
    stage: str
    stage_title: str
    status: DealStatus
    fields: dict[str, Any]
    tasks: list[Task]
    missing: list[Missing] = Field(description="what stops advancing now")
    created_at: datetime
    runs: int = Field(description="workflow runs so far (continue-as-new)")
    last_seq: int


class DealAction(BaseModel):
    name: Literal["advance", "back", "win", "lose", "patch", "complete_task", "cancel_task"]
    actor: Actor
    to_stage: str | None = None
    reason: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    task_id: int | None = None
    result: str | None = None
    customer: dict[str, Any] | None = Field(
        default=None, description="the customer's profile as it is now, for the gates"
    )


class DealRegistered(BaseModel):
    terms: PipelineTerms
    people: dict[str, str]
    created_at: datetime


class DealSnapshot(BaseModel):
    """The read model's picture after a step, with the events since the last one."""

    view: DealView
    events: list[DealEvent]
    notices: list[dict[str, Any]] = Field(default_factory=list)


def facts(
    start: DealStart, fields: dict[str, Any], customer: dict[str, Any] | None = None
) -> dict[str, Any]:
    profile = start.customer if customer is None else customer
    return values_of(start.amount, start.currency, fields, profile)


def values_of(
    amount: float | None, currency: str, fields: dict[str, Any], profile: dict[str, Any]
) -> dict[str, Any]:
    """What a stage's gate reads: the customer's profile as `customer.<field>`, the amount,
    the currency and the deal's own fields."""
    values = {f"customer.{k}": v for k, v in profile.items()}
    values.update(amount=amount, currency=currency)
    values.update(fields)
    return values


def holds(condition: dict[str, Any], values: dict[str, Any]) -> bool:
    return compile_when(condition, known=None).holds(values)


class Check(BaseModel):
    """One line of a stage's checklist: a required field, a rule across fields, or a
    blocking task; `missing` is what advancing would report while it is not done."""

    done: bool
    missing: Missing


def checklist(stage: Stage, values: dict[str, Any], tasks: list[Task]) -> list[Check]:
    """Everything leaving `stage` forward asks for, done or not."""
    checks = [
        Check(
            done=values.get(r.field) not in (None, ""),
            missing=Missing(field=r.field, reason=r.message),
        )
        for r in stage.required
    ]
    for rule in stage.rules:
        broken = holds(rule.when, values) and not holds(rule.require, values)
        reason = f"{rule.name}: {rule.message}"
        checks.append(
            Check(
                done=not broken,
                missing=Missing(field=", ".join(rule.fields), fields=rule.fields, reason=reason),
            )
        )
    checks += [
        Check(
            done=t.status != "open",
            missing=Missing(task=t.id, reason=f"blocking task '{t.title}' is not done"),
        )
        for t in tasks
        if t.stage == stage.code and t.blocking
    ]
    return checks


def gate(stage: Stage, values: dict[str, Any], tasks: list[Task]) -> list[Missing]:
    """Everything that stops leaving `stage` forward: every reason, not the first."""
    return [c.missing for c in checklist(stage, values, tasks) if not c.done]


def stage_tasks(
    terms: PipelineTerms, stage: Stage, people: dict[str, str], at: datetime, first_id: int
) -> list[Task]:
    calendar = terms.calendar.build()
    tasks = []
    for i, template in enumerate(stage.tasks):
        due = calendar.add(at, template.due)
        reminder = None
        if template.reminder is not None:
            reminder = max(at, due - template.reminder)
        tasks.append(
            Task(
                id=first_id + i,
                stage=stage.code,
                title=template.title,
                type=template.type,
                assignee_role=template.assignee,
                assignee=people.get(template.assignee, people["owner"]),
                due_at=due,
                reminder_at=reminder,
                blocking=template.blocking,
            )
        )
    return tasks


DealStart.model_rebuild()
