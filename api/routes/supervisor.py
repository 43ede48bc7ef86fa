"""Supervisors: the workload of their zone and reassigning by hand, one or many at once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from api.actions import perform
from api.deps import CurrentUser, DbSession, State, Temporal
from api.pagination import Cursor, Limit, Page, keyset
from api.problems import Problem
from api.request_views import RequestOut
from caseflow import access
from caseflow.access import Kind, NotVisible
from caseflow.models import Team, User
from caseflow.people.schedule import today_starts
from caseflow.requests.backlog import backlog
from caseflow.requests.lifecycle import Role
from caseflow.routing.assignment import Need, candidates
from caseflow.sla.reports import breaches_since

router = APIRouter(prefix="/supervisor", tags=["supervisor"])


def require_overseer(user: User) -> None:
    if user.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise Problem(403, "forbidden", "only supervisors and admins see this")


class AgentLoad(BaseModel):
    username: str
    full_name: str
    team: str | None
    open: int
    capacity: int
    load: float
    availability: str
    absent: bool
    available: bool = Field(description="can be given work now")
    breaches_today: int = Field(
        description="SLA clocks of theirs breached since 00:00 in the supervisor's time zone"
    )


class QueueBacklog(BaseModel):
    queue: str | None = Field(description="null: requests no queue holds")
    open: int
    unassigned: int = Field(description="open and nobody on them")
    oldest_unassigned_at: datetime | None = Field(description="registered then, still waiting")
    breached: int = Field(description="open requests with a breached SLA clock")


class Workload(Page[AgentLoad]):
    queues: list[QueueBacklog] = Field(
        description="each queue of the zone: its backlog, most unassigned first"
    )


@router.get("/workload", response_model=Workload, operation_id="supervisor_workload")
async def workload(
    db: DbSession, user: CurrentUser, app: State, limit: Limit = 100, cursor: Cursor = None
) -> Workload:
    """People of the zone with their load, and each queue's backlog (requests nobody is on
    appear here, not under a person)."""
    require_overseer(user)
    query = select(User).where(
        User.active.is_(True), User.team_code.is_not(None), access.where(Kind.PERSON, user)
    )
    page, next_cursor = await keyset(db, query, [User.username], limit=limit, cursor=cursor)
    people = {u.username: u for u in page}
    need = Need(at=datetime.now(UTC))
    loads = await candidates(db, need, usernames=list(people))
    midnight = today_starts(user.schedule, app.settings.default_timezone, need.at)
    breached = await breaches_since(db, list(people), midnight)
    items = [
        AgentLoad(
            username=c.username,
            full_name=people[c.username].full_name,
            team=people[c.username].team_code,
            open=c.open,
            capacity=c.capacity,
            load=round(c.load, 3) if c.capacity else 1.0,
            availability=c.availability,
            absent=c.absent,
            available=c.why_not(need) is None,
            breaches_today=breached.get(c.username, 0),
        )
        for c in loads
    ]
    zone = (await db.scalars(select(Team.code))).all() if user.role == Role.ADMIN else []
    queues = await backlog(
        db, access.where(Kind.REQUEST, user), list(user.zone_teams or []) + list(zone)
    )
    return Workload(
        items=items,
        next_cursor=next_cursor,
        queues=[QueueBacklog.model_validate(q, from_attributes=True) for q in queues],
    )


class BulkReassign(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_ids: list[str] = Field(min_length=1, max_length=200)
    assignee: str | None = None
    queue: str | None = None
    reason: str = Field(min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _target(self) -> BulkReassign:
        if not (self.assignee or self.queue):
            raise ValueError("give an assignee or a queue")
        return self


class ReassignResult(BaseModel):
    id: str
    status: int
    request: RequestOut | None = None
    problem: dict[str, Any] | None = None


@router.post(
    "/reassign", response_model=list[ReassignResult], operation_id="supervisor_bulk_reassign"
)
async def bulk_reassign(
    body: BulkReassign, db: DbSession, user: CurrentUser, temporal: Temporal
) -> list[ReassignResult]:
    """Each request is reassigned on its own; one failing does not stop the others."""
    require_overseer(user)
    payload = body.model_dump(exclude={"request_ids"}, exclude_none=True)
    results = []
    for request_id in dict.fromkeys(body.request_ids):
        try:
            row = await access.request(db, user, request_id)
            view = await perform(db, user, temporal, row, "reassign", payload)
        except NotVisible:
            results.append(
                ReassignResult(
                    id=request_id,
                    status=404,
                    problem={"type": "not_found", "detail": "request not found"},
                )
            )
        except Problem as problem:
            results.append(
                ReassignResult(
                    id=request_id,
                    status=problem.status,
                    problem={"type": problem.code, "detail": problem.detail, **problem.extensions},
                )
            )
        else:
            results.append(ReassignResult(id=request_id, status=200, request=view))
    return results
