"""The supervisor's floor: each queue's backlog, each agent's load against capacity and
availability, breached and at-risk clocks with bulk reassignment — the supervisor API's
own functions (`api/routes/supervisor*.py`), so the page and the API never disagree and
the zone is the access policy's."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from api.deps import DbSession, State, Temporal
from api.problems import Problem, from_validation
from api.routes.admin import PersonPatch, update_user
from api.routes.supervisor import BulkReassign, ReassignResult, bulk_reassign, workload
from api.routes.supervisor_sla import at_risk, breaches
from caseflow.models import User
from console.session import ConsoleUser
from console.web import render, wants_block

router = APIRouter(include_in_schema=False)
SOON = timedelta(hours=1)


async def floor_context(db: DbSession, user: User, app: Any) -> dict[str, Any]:
    load = await workload(db=db, user=user, limit=200, cursor=None)
    late = await breaches(db=db, user=user, state=app, limit=50, cursor=None)
    risky = await at_risk(db=db, user=user, state=app, within=SOON, limit=50, cursor=None)
    return {
        "user": user,
        "load": load,
        "breaches": late.items,
        "at_risk": risky.items,
        "results": [],
        "problem": None,
    }


async def answer(request: Request, context: dict[str, Any], status: int = 200) -> Response:
    return render(
        request, "floor.html", context, block="floor" if wants_block(request) else None,
        status=status,
    )  # fmt: skip


@router.get("/floor")
async def floor(request: Request, db: DbSession, user: ConsoleUser, app: State) -> Response:
    try:
        context = await floor_context(db, user, app)
    except Problem as problem:  # not a supervisor: the page says so, as the API would
        return render(request, "refused.html", {"user": user, "problem": problem}, status=403)
    return await answer(request, context)


@router.post("/floor/reassign")
async def reassign(
    request: Request, db: DbSession, user: ConsoleUser, app: State, temporal: Temporal
) -> Response:
    form = await request.form()
    results: list[ReassignResult] = []
    problem: Problem | None = None
    try:
        body = BulkReassign(
            request_ids=[str(v) for v in form.getlist("request_ids")],
            assignee=str(form.get("assignee") or "") or None,
            queue=str(form.get("queue") or "") or None,
            reason=str(form.get("reason") or ""),
        )
        results = await bulk_reassign(body, db, user, temporal)
    except ValidationError as exc:
        problem = from_validation(exc.errors())
    except Problem as exc:
        problem = exc
    context = await floor_context(db, user, app)
    context["results"], context["problem"] = results, problem
    return await answer(request, context, status=problem.status if problem else 200)


@router.post("/floor/people/{username}/availability")
async def availability(
    request: Request,
    username: Annotated[str, Path(max_length=64)],
    db: DbSession,
    user: ConsoleUser,
    app: State,
    temporal: Temporal,
) -> Response:
    form = await request.form()
    problem: Problem | None = None
    try:
        patch = PersonPatch.model_validate({"availability": form.get("availability")})
        await update_user(username, patch, db, user, temporal)
    except ValidationError as exc:
        problem = from_validation(exc.errors())
    except Problem as exc:
        problem = exc
    context = await floor_context(db, user, app)
    context["problem"] = problem
    return await answer(request, context, status=problem.status if problem else 200)
