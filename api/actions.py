"""Person actions on a request: each one's body, its checks, and the workflow update."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    model_validator,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError

from api.deadline import unconfirmed
from api.deps import actor_of
from api.problems import Problem, from_validation, invalid, not_found
from api.request_views import RequestOut, allowed_for, out
from api.temporal_errors import finished, to_problem
from caseflow.models import Request, Team, User
from caseflow.payloads import Action
from caseflow.platform.logs import WORKFLOW_ID
from caseflow.requests.lifecycle import ACTIONS, OPEN_STATES, OVERSEERS, Role
from caseflow.tickets import store as tickets
from caseflow.tickets.connectors import StoredFile, Ticketing
from workflows.request import RequestWorkflow

PRIORITIES = Literal["low", "normal", "high", "critical"]


class NoBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TakeBody(NoBody):
    override_capacity: StrictBool = Field(
        default=False,
        description="take it although you are at capacity; recorded on the request's history",
    )


class CommentBody(NoBody):
    text: str = Field(min_length=1, max_length=20000)
    public: StrictBool = False
    files: list[str] = Field(
        default_factory=list, max_length=20, description="SHA-256 of files uploaded to the request"
    )


class HandoffBody(NoBody):
    system: str = Field(min_length=1, max_length=32, description="the connector's name")
    queue: str | None = Field(default=None, description="default: the topic's queue")
    note: str = Field(min_length=1, max_length=20000)


class MessageBody(NoBody):
    message: str = Field(min_length=1, max_length=20000)


class ResolveBody(NoBody):
    resolution: str = Field(min_length=1, max_length=20000)


class ReasonBody(NoBody):
    reason: str = Field(min_length=1, max_length=2000)


class EscalateBody(ReasonBody):
    to_line: Literal["L2", "L3"]
    queue: str | None = None


class ReassignBody(ReasonBody):
    assignee: str | None = None
    queue: str | None = None

    @model_validator(mode="after")
    def _target(self) -> ReassignBody:
        if not (self.assignee or self.queue):
            raise ValueError("give an assignee or a queue")
        return self


class PriorityBody(ReasonBody):
    priority: PRIORITIES


BODIES: dict[str, type[NoBody]] = {
    "take": TakeBody,
    "start": NoBody,
    "close": NoBody,
    "comment": CommentBody,
    "request-info": MessageBody,
    "customer-reply": MessageBody,
    "resolve": ResolveBody,
    "reopen": ReasonBody,
    "cancel": ReasonBody,
    "escalate": EscalateBody,
    "return": ReasonBody,
    "handoff": HandoffBody,
    "reassign": ReassignBody,
    "set-priority": PriorityBody,
}
assert set(BODIES) == set(ACTIONS)


def to_action(name: str, body: NoBody, user: Any) -> Action:
    fields = body.model_dump()
    return Action(
        name=name,
        actor=user,
        text=fields.get("text")
        or fields.get("message")
        or fields.get("resolution")
        or fields.get("note"),
        public=fields.get("public", False),
        reason=fields.get("reason"),
        to_line=fields.get("to_line"),
        queue=fields.get("queue"),
        assignee=fields.get("assignee"),
        priority=fields.get("priority"),
        system=fields.get("system"),
        override_capacity=fields.get("override_capacity", False),
    )


async def check_capacity(db: AsyncSession, user: User, body: TakeBody) -> None:
    """Taking stays within the taker's capacity, or goes over it on purpose (recorded)."""
    if Role(user.role) in OVERSEERS or body.override_capacity:
        return
    open_now = await db.scalar(
        select(func.count())
        .select_from(Request)
        .where(
            Request.assignee == user.username,
            Request.state.in_([s.value for s in OPEN_STATES]),
        )
    )
    if (open_now or 0) >= user.capacity:
        raise Problem(
            409,
            "at_capacity",
            f"you hold {open_now} open requests and your capacity is {user.capacity}; "
            "take it with override_capacity: true to go over it (recorded)",
            open=open_now,
            capacity=user.capacity,
        )


async def check_targets(db: AsyncSession, body: NoBody, user: User) -> None:
    """Queues and people an action names must exist (422 naming the field, never a 5xx),
    and a supervisor may only hand work to queues and people of their own zone (403)."""
    zone = set(user.zone_teams or []) if user.role == Role.SUPERVISOR else None
    queue = getattr(body, "queue", None)
    if queue is not None:
        team = await db.get(Team, queue)
        if team is None:
            raise invalid("queue", f"no queue '{queue}'")
        to_line = getattr(body, "to_line", None)
        if to_line is not None and team.line != to_line:
            raise invalid("queue", f"queue '{queue}' belongs to {team.line}, not {to_line}")
        if zone is not None and getattr(body, "to_line", None) is None and queue not in zone:
            raise Problem(403, "forbidden", f"queue '{queue}' is outside your zone")
    assignee = getattr(body, "assignee", None)
    if assignee is not None:
        person = await db.scalar(select(User).where(User.username == assignee))
        if person is None or not person.active:
            raise invalid("assignee", f"no active user '{assignee}'")
        if zone is not None and person.team_code not in zone:
            raise Problem(403, "forbidden", f"{assignee} works outside your zone")


def validate_body(model: type[NoBody], payload: dict[str, Any]) -> NoBody:

    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise from_validation(exc.errors()) from exc


def check_handoff(body: HandoffBody, ticketing: Ticketing, topic: str) -> HandoffBody:
    """The system must be configured and the queue one it takes (422 naming the field)."""
    config = ticketing.get(body.system)
    if config is None:
        known = ", ".join(sorted(ticketing.connectors)) or "none is configured"
        raise invalid("system", f"no external system '{body.system}' (known: {known})")
    queue = body.queue or config.queue_for(topic)
    if queue not in config.queues:
        raise invalid("queue", f"{body.system} takes queues {', '.join(config.queues)}")
    return body.model_copy(update={"queue": queue})


async def comment_files(db: AsyncSession, row: Request, body: CommentBody) -> list[StoredFile]:
    """The files a comment names must have been uploaded to this request."""
    kept = {f.sha256: f for f in await tickets.request_files(db, row.id)}
    found = []
    for index, sha in enumerate(body.files):
        if sha not in kept:
            raise invalid(f"files.{index}", f"no file {sha} on this request; upload it first")
        f = kept[sha]
        found.append(
            StoredFile(sha256=sha, filename=f.filename, content_type=f.content_type, size=f.size)
        )
    return found


async def perform(
    db: AsyncSession,
    user: User,
    temporal: Client,
    row: Request,
    name: str,
    payload: dict[str, Any],
    ticketing: Ticketing | None = None,
    *,
    deadline: timedelta | None = None,
    key: str | None = None,
    version: int | None = None,
) -> RequestOut:
    """Validate the body, check what it names, then send the update; problems as raised."""
    model = BODIES.get(name)
    if model is None:
        raise not_found(f"action '{name}'")
    body = validate_body(model, payload)
    if isinstance(body, HandoffBody):  # its queue is the external system's, not a team
        body = check_handoff(body, ticketing or Ticketing([]), row.topic)
    else:
        await check_targets(db, body, user)
    if isinstance(body, TakeBody):
        await check_capacity(db, user, body)
    action = to_action(name, body, await actor_of(user, db))
    action.expected_seq = version
    if isinstance(body, CommentBody):
        action.files = await comment_files(db, row, body)
    await db.commit()  # no transaction held open across the workflow call
    WORKFLOW_ID.set(row.workflow_id)
    # The same Idempotency-Key is the same update: Temporal applies it once.
    update_id = f"{user.username}:{name}:{key}" if key else None
    call = temporal.get_workflow_handle(row.workflow_id).execute_update(
        RequestWorkflow.act, action, id=update_id
    )
    try:
        view = await (
            asyncio.wait_for(call, timeout=deadline.total_seconds()) if deadline else call
        )
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        assert deadline is not None
        raise unconfirmed(deadline) from None
    except WorkflowUpdateFailedError as exc:
        raise to_problem(exc) from exc
    except RPCError as exc:
        problem = finished(exc)
        if problem is None:
            raise
        raise problem from exc
    return out(view, await allowed_for(db, user, view), row, user)
