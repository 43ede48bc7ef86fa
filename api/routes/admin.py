"""Admin: routing rules (validate, preview, reload) and the people assignment chooses from."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy import select
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from api.bounds import Moment, RowIdPath
from api.deps import AppSettings, CurrentUser, DbSession, Temporal
from api.pagination import Cursor, Limit, Page, keyset
from api.problems import Problem, from_validation, invalid, not_found
from caseflow import access
from caseflow.access import Kind, NotVisible
from caseflow.models import Absence, Team, User, utcnow
from caseflow.payloads import AbsenceStart, Requeue
from caseflow.people.schedule import WorkSchedule
from caseflow.people.store import team_codes, unstarted_requests, upsert_team
from caseflow.platform.yamlsource import SourceErrors
from caseflow.requests.lifecycle import Line, Role
from caseflow.requests.topics import book_beside
from caseflow.routing import rules as routing
from caseflow.routing import state as rules_state
from caseflow.routing import whatif
from caseflow.routing.samples import recent_intakes
from workflows.absence import AbsenceWorkflow
from workflows.request import RequestWorkflow

router = APIRouter(prefix="/admin", tags=["admin"])


def require(user: User, *roles: Role) -> None:
    if user.role not in roles:
        raise Problem(403, "forbidden", f"the {user.role} role may not do this")


def rule_problem(exc: SourceErrors) -> Problem:
    errors = [
        {"field": f"{e.file}:{e.line}", "file": e.file, "line": e.line, "reason": e.reason}
        for e in exc.errors
    ]
    return Problem(
        422, "invalid_rules", f"{len(errors)} problem(s) in the routing rules", errors=errors
    )


class RulesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    files: dict[str, str] = Field(
        default_factory=dict, description="file name → YAML; replaces the file of that name"
    )
    replace_all: StrictBool = Field(default=False, description="the given files are the whole set")

    @model_validator(mode="after")
    def _yaml_names(self) -> RulesIn:
        for name in self.files:
            if "/" in name or not name.endswith(".yaml"):
                raise ValueError(f"'{name}': give plain file names ending in .yaml")
        return self


def proposed_texts(body: RulesIn, directory: Any) -> dict[str, str]:
    texts = {} if body.replace_all else routing.read_texts(directory)
    texts.update(body.files)
    return texts


async def proposed_book(body: RulesIn, directory: Any, queues: set[str]) -> routing.RuleBook:
    """The rule book the files on disk would make with the given ones in place; parsing and
    checking are CPU work, so off the event loop."""
    return await asyncio.to_thread(
        routing.load_texts,
        proposed_texts(body, directory),
        known_queues=queues,
        known_topics=book_beside(directory),
    )


YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
PROPOSED_FILE = "proposed.yaml"


async def rules_body(request: Request) -> RulesIn:
    """JSON `{files, replace_all}`, or one YAML document sent as is (Content-Type YAML)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if content_type in YAML_TYPES:
        try:
            return RulesIn(files={PROPOSED_FILE: raw.decode("utf-8")})
        except UnicodeDecodeError as exc:
            raise invalid("body", "YAML must be UTF-8") from exc
    try:
        return RulesIn.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        raise from_validation(exc.errors(), "give {files: {name: yaml}} or a YAML body") from exc


@router.post(
    "/routing/validate",
    operation_id="routing_validate",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": RulesIn.model_json_schema()},
                "application/yaml": {
                    "schema": {"type": "object", "description": "one rules file, as YAML"}
                },
            }
        }
    },
)
async def validate_rules(
    request: Request, db: DbSession, user: CurrentUser, settings: AppSettings
) -> dict[str, Any]:
    """Check a proposed rule set: the files on disk with the given ones in place."""
    require(user, Role.ADMIN, Role.SUPERVISOR)
    body = await rules_body(request)
    queues = await team_codes(db)
    try:
        book = await proposed_book(body, settings.routing_rules_dir, queues)
    except SourceErrors as exc:
        raise rule_problem(exc) from exc
    return {"valid": True, "rules": len(book.rules), "defaults": book.defaults}


class DryRunIn(RulesIn):
    sample: int = Field(default=100, ge=1, le=10000, description="the newest N requests")
    request_ids: list[str] | None = Field(default=None, max_length=10000)


@router.post("/routing/dry-run", operation_id="routing_dry_run")
async def dry_run(
    body: DryRunIn, db: DbSession, user: CurrentUser, settings: AppSettings
) -> dict[str, Any]:
    """Route past intakes through the live rules and the proposed ones; nothing is written."""
    require(user, Role.ADMIN, Role.SUPERVISOR)
    queues = await team_codes(db)
    try:
        current = routing.load(settings.routing_rules_dir, known_queues=queues)
        proposed = await proposed_book(body, settings.routing_rules_dir, queues)
    except SourceErrors as exc:
        raise rule_problem(exc) from exc
    intakes = await recent_intakes(db, limit=body.sample, request_ids=body.request_ids)
    return whatif.compare(current, proposed, intakes)


@router.post("/routing/reload", operation_id="routing_reload")
async def reload_rules(db: DbSession, user: CurrentUser, settings: AppSettings) -> dict[str, Any]:
    """Check the files on disk, then make them live for every worker's next decision."""
    require(user, Role.ADMIN)
    try:
        book = routing.load(settings.routing_rules_dir, known_queues=await team_codes(db))
    except SourceErrors as exc:
        raise rule_problem(exc) from exc
    version = await rules_state.bump(db, by=user.username)
    await db.commit()
    return {"version": version, "rules": len(book.rules)}


# --- teams and people ----------------------------------------------------------------------


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(min_length=1, max_length=200)
    line: Line
    region: str | None = None
    requeue_when_away: StrictBool = False


@router.get("/teams", response_model=Page[TeamIn], operation_id="list_teams")
async def list_teams(
    db: DbSession, user: CurrentUser, limit: Limit = 100, cursor: Cursor = None
) -> Page[TeamIn]:
    require(user, Role.ADMIN, Role.SUPERVISOR)
    teams, next_cursor = await keyset(db, select(Team), [Team.code], limit=limit, cursor=cursor)
    return Page(
        items=[
            TeamIn(
                code=t.code,
                name=t.name,
                line=Line(t.line),
                region=t.region,
                requeue_when_away=t.requeue_when_away,
            )
            for t in teams
        ],
        next_cursor=next_cursor,
    )


@router.put("/teams/{code}", response_model=TeamIn, operation_id="save_team")
async def save_team(code: str, body: TeamIn, db: DbSession, user: CurrentUser) -> TeamIn:
    """Create or change a team (a queue): rules may name it after the next reload."""
    require(user, Role.ADMIN)
    if body.code != code:
        raise invalid("code", "the code in the body differs from the one in the path")
    await upsert_team(
        db,
        code=code,
        name=body.name,
        line=body.line,
        region=body.region,
        requeue_when_away=body.requeue_when_away,
    )
    await db.commit()
    return body


class PersonOut(BaseModel):
    username: str
    full_name: str
    role: str
    team: str | None
    availability: str
    capacity: int
    skills: dict[str, int]
    schedule: WorkSchedule | None
    active: bool
    locked: bool = Field(description="locked after repeated wrong passwords; an admin lifts it")


def person_out(user: User) -> PersonOut:
    return PersonOut(
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        team=user.team_code,
        availability=user.availability,
        capacity=user.capacity,
        skills=user.skills or {},
        schedule=WorkSchedule.model_validate(user.schedule) if user.schedule else None,
        active=user.active,
        locked=user.locked_at is not None,
    )


async def managed_person(db: DbSession, user: User, username: str) -> User:
    """Admins manage everyone; a supervisor the people of their zone; others nobody."""
    require(user, Role.ADMIN, Role.SUPERVISOR)
    try:
        return await access.person(db, user, username)
    except NotVisible:
        raise not_found("user") from None


@router.get("/users", response_model=Page[PersonOut], operation_id="list_users")
async def list_users(
    db: DbSession, user: CurrentUser, limit: Limit = 100, cursor: Cursor = None
) -> Page[PersonOut]:
    require(user, Role.ADMIN, Role.SUPERVISOR)
    query = select(User).where(access.where(Kind.PERSON, user))
    people, next_cursor = await keyset(db, query, [User.username], limit=limit, cursor=cursor)
    return Page(items=[person_out(u) for u in people], next_cursor=next_cursor)


class PersonPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    availability: Literal["available", "away", "off"] | None = None
    capacity: int | None = Field(default=None, ge=0, le=1000)
    skills: dict[str, int] | None = None
    schedule: WorkSchedule | None = Field(default=None, description="null: always on shift")
    team: str | None = None
    active: StrictBool | None = None
    locked: StrictBool | None = Field(default=None, description="false lifts a lockout")

    @field_validator("availability", "capacity", "skills", "active", "locked", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Left out means "unchanged"; null would blank a value every person must have.
        if value is None:
            raise ValueError("may not be null; leave the field out to keep it")
        return value

    @model_validator(mode="after")
    def _levels(self) -> PersonPatch:
        for skill, level in (self.skills or {}).items():
            if not 1 <= level <= 5:
                raise ValueError(f"skill '{skill}': levels go from 1 to 5")
        return self


@router.patch("/users/{username}", response_model=PersonOut, operation_id="update_user")
async def update_user(
    username: str, body: PersonPatch, db: DbSession, user: CurrentUser, temporal: Temporal
) -> PersonOut:
    person = await managed_person(db, user, username)
    changes = body.model_dump(exclude_unset=True)
    if {"team", "active", "locked"} & set(changes) and user.role != Role.ADMIN:
        raise Problem(403, "forbidden", "only an admin changes teams, accounts and lockouts")
    if "locked" in changes:
        locked = changes.pop("locked")
        person.failed_logins = 0
        person.locked_at = (person.locked_at or utcnow()) if locked else None
    if "team" in changes:
        if changes["team"] is not None and await db.get(Team, changes["team"]) is None:
            raise invalid("team", f"no team '{changes['team']}'")
        person.team_code = changes.pop("team")
    if "schedule" in changes:
        changes["schedule"] = body.schedule.model_dump(mode="json") if body.schedule else None
    for name, value in changes.items():
        setattr(person, name, value)
    await db.commit()
    if changes.get("availability") in ("away", "off"):
        reason = f"{username} is {person.availability} (set by {user.username})"
        for workflow_id in await unstarted_requests(db, username):
            await temporal.get_workflow_handle(workflow_id).signal(
                RequestWorkflow.requeue, Requeue(assignee=username, reason=reason)
            )
    return person_out(person)


class AbsenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: Moment
    ends_at: Moment
    reason: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _order(self) -> AbsenceIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("an absence ends after it starts")
        return self


@router.post("/users/{username}/absences", status_code=201, operation_id="add_absence")
async def add_absence(
    username: str,
    body: AbsenceIn,
    db: DbSession,
    user: CurrentUser,
    temporal: Temporal,
    settings: AppSettings,
) -> dict[str, Any]:
    """Record a planned absence; when it starts, the person's unstarted requests go back."""
    person = await managed_person(db, user, username)
    absence = Absence(
        user_id=person.id, starts_at=body.starts_at, ends_at=body.ends_at, reason=body.reason
    )
    db.add(absence)
    await db.flush()
    start = AbsenceStart(
        absence_id=absence.id, username=username, starts_at=body.starts_at, reason=body.reason
    )
    # Started before the commit: an absence that exists always has its timer.
    await temporal.start_workflow(
        AbsenceWorkflow.run,
        start,
        id=f"absence-{absence.id}",
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    await db.commit()
    return {
        "id": absence.id,
        "username": username,
        "starts_at": absence.starts_at,
        "ends_at": absence.ends_at,
        "reason": absence.reason,
        "workflow_id": f"absence-{absence.id}",
    }


@router.delete(
    "/users/{username}/absences/{absence_id}", status_code=204, operation_id="withdraw_absence"
)
async def withdraw_absence(
    username: str, absence_id: RowIdPath, db: DbSession, user: CurrentUser, temporal: Temporal
) -> None:
    """Withdraw a planned absence; its timer is cancelled, nothing is given back."""
    person = await managed_person(db, user, username)
    absence = await access.seen(
        db, user, Kind.ABSENCE, Absence.id == absence_id, Absence.user_id == person.id
    )
    await db.delete(absence)
    await db.commit()
    try:
        await temporal.get_workflow_handle(f"absence-{absence_id}").cancel()
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise  # already finished is NOT_FOUND too; anything else is worth seeing
