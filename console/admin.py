"""The admin's pages: people (availability, capacity, skills, absences) and routing rules
(a changed file tried against recent requests — which decisions change, from → to, and
each queue's volume — then the files on disk made live) — the admin API's own functions
(`api/routes/admin.py`), so the page checks exactly what the API checks."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from api.deps import AppSettings, DbSession, Temporal
from api.problems import Problem
from api.routes.admin import (
    AbsenceIn,
    DryRunIn,
    PersonPatch,
    TeamIn,
    add_absence,
    dry_run,
    list_teams,
    list_users,
    reload_rules,
    save_team,
    update_user,
)
from caseflow.models import User
from caseflow.routing import rules as routing
from console.session import ConsoleUser
from console.web import attempt, render, wants_block, zone_of

router = APIRouter(include_in_schema=False)
SKILL = re.compile(r"^\s*([\w-]+)\s*:\s*(\d)\s*$")
Username = Annotated[str, Path(max_length=64)]


async def admin_context(
    db: DbSession, user: User, settings: Any, chosen: str | None = None
) -> dict[str, Any]:
    people = await list_users(db=db, user=user, limit=200, cursor=None)
    teams = await list_teams(db=db, user=user, limit=200, cursor=None)
    files = routing.read_texts(settings.routing_rules_dir)
    name = chosen if chosen in files else next(iter(files), "")
    return {
        "user": user,
        "people": people.items,
        "teams": teams.items,
        "files": files,
        "file": name,
        "text": files.get(name, ""),
        "problem": None,
        "problem_for": None,
        "whatif": None,
        "reloaded": None,
    }


async def page(
    request: Request, context: dict[str, Any], problem: Problem | None = None, target: str = ""
) -> Response:
    context["problem"], context["problem_for"] = problem, target
    block = "admin" if wants_block(request) else None
    status = problem.status if problem else 200
    return render(request, "admin.html", context, block=block, status=status)


@router.get("/admin")
async def admin(
    request: Request, db: DbSession, user: ConsoleUser, settings: AppSettings
) -> Response:
    try:
        context = await admin_context(db, user, settings, request.query_params.get("file"))
    except Problem as refused:
        return render(request, "refused.html", {"user": user, "problem": refused}, status=403)
    return await page(request, context)


def skills_of(text: str) -> dict[str, int]:
    """`cards: 3, tariffs: 2` → {cards: 3, tariffs: 2}; a part that is not that is refused."""
    found: dict[str, int] = {}
    for part in filter(str.strip, text.split(",")):
        match = SKILL.match(part)
        if match is None:
            raise Problem(
                422, "validation_error", f"skills: '{part.strip()}' is not 'name: level'",
                errors=[{"field": "skills", "reason": "write name: level, separated by commas"}],
            )  # fmt: skip
        found[match.group(1)] = int(match.group(2))
    return found


def moment(form: FormData, name: str, zone: ZoneInfo) -> str:
    """A `datetime-local` input, read in the admin's time zone."""
    raw = str(form.get(name) or "")
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=zone).isoformat()
    except ValueError:
        return raw  # the API's model says what is wrong with it


@router.post("/admin/people/{username}/{what}")
async def person(
    request: Request,
    username: Username,
    what: Annotated[str, Path(pattern="^(settings|absence)$")],
    db: DbSession,
    user: ConsoleUser,
    temporal: Temporal,
    settings: AppSettings,
) -> Response:
    form = await request.form()

    async def step() -> None:
        if what == "settings":
            changes = {
                "availability": form.get("availability"),
                "capacity": form.get("capacity"),
                "skills": skills_of(str(form.get("skills") or "")),
            }
            if "team" in form and form.get("team") != form.get("team_was"):  # an admin's move
                changes["team"] = form.get("team") or None
            patch = PersonPatch.model_validate(changes)
            await update_user(username, patch, db, user, temporal)
        else:
            zone = zone_of(user)
            absence = AbsenceIn.model_validate(
                {
                    "starts_at": moment(form, "starts_at", zone),
                    "ends_at": moment(form, "ends_at", zone),
                    "reason": str(form.get("reason") or ""),
                }
            )
            await add_absence(username, absence, db, user, temporal, settings)

    _, problem = await attempt(step)
    return await page(request, await admin_context(db, user, settings), problem, username)


@router.post("/admin/teams")
async def team(
    request: Request, db: DbSession, user: ConsoleUser, settings: AppSettings
) -> Response:
    """A team (a queue) created or changed: the admin API's `save_team`."""
    form = await request.form()
    code = str(form.get("code") or "").strip()

    async def step() -> None:
        body = TeamIn.model_validate(
            {
                "code": code,
                "name": str(form.get("name") or "").strip(),
                "line": form.get("line"),
                "region": str(form.get("region") or "").strip() or None,
                "requeue_when_away": form.get("requeue_when_away") == "on",
            }
        )
        await save_team(code, body, db, user)

    _, problem = await attempt(step)
    return await page(request, await admin_context(db, user, settings), problem, "teams")


@router.post("/admin/rules/{what}")
async def rules(
    request: Request,
    what: Annotated[str, Path(pattern="^(whatif|reload)$")],
    db: DbSession,
    user: ConsoleUser,
    settings: AppSettings,
) -> Response:
    form = await request.form()
    name = str(form.get("file") or "")
    context = await admin_context(db, user, settings, name)

    async def step() -> None:
        if what == "whatif":
            text = str(form.get("text") or "")
            context["text"] = text
            body = DryRunIn(files={name or "proposed.yaml": text}, sample=200)
            context["whatif"] = await dry_run(body, db, user, settings)
        else:
            context["reloaded"] = await reload_rules(db, user, settings)

    _, problem = await attempt(step)
    return await page(request, context, problem, "rules")
