"""The supervisor's floor: each queue's backlog, each agent's load against capacity and
availability, breached and at-risk clocks with bulk reassignment — the supervisor API's
own functions (`api/routes/supervisor*.py`), so the page and the API never disagree and
the zone is the access policy's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from starlette.requests import Request
from starlette.responses import Response

from api.deps import DbSession, State, Temporal
from api.problems import Problem
from api.routes.admin import PersonPatch, update_user
from api.routes.notifications import in_zone, resend
from api.routes.supervisor import BulkReassign, ReassignResult, bulk_reassign, workload
from api.routes.supervisor_sla import SlaStats, at_risk, breaches, stats
from caseflow.models import User
from console.session import ConsoleUser
from console.web import attempt, render, span, wants_block, zone_of

router = APIRouter(include_in_schema=False)
SOON = timedelta(hours=1)


async def floor_context(db: DbSession, user: User, app: Any) -> dict[str, Any]:
    load = await workload(db=db, user=user, app=app, limit=200, cursor=None)
    late = await breaches(db=db, user=user, state=app, limit=50, cursor=None)
    risky = await at_risk(db=db, user=user, state=app, within=SOON, limit=50, cursor=None)
    failed = await in_zone(db=db, user=user, status="failed", limit=20, cursor=None)
    return {
        "user": user,
        "load": load,
        "breaches": late.items,
        "at_risk": risky.items,
        "failed_emails": failed.items,
        "resent": None,
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


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # 0..1 of the chart's width
    text: str


def bars(stats: SlaStats) -> dict[str, list[Bar]]:
    """Met % and median business times per group, scaled for the SVG charts."""
    met = [
        Bar(g.group or "—", (g.met_pct or 0) / 100, f"{g.met_pct:.0f} % of {g.met + g.breached}")
        for g in stats.groups
        if g.met_pct is not None
    ]
    medians: dict[str, list[Bar]] = {"met": met}
    for name in ("median_first_response", "median_resolution"):
        values = [(g.group or "—", getattr(g, name)) for g in stats.groups]
        longest = max((v.total_seconds() for _, v in values if v is not None), default=0)
        medians[name] = [
            Bar(label, v.total_seconds() / longest if longest else 0, span(v))
            for label, v in values
            if v is not None
        ]
    return medians


@router.get("/floor/charts")
async def charts(
    request: Request,
    db: DbSession,
    user: ConsoleUser,
    app: State,
    period: Annotated[str, Query(pattern="^(today|week|chosen)$")] = "today",
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    group_by: Literal["line", "queue", "agent"] = "line",
) -> Response:
    """Met % and median times per line, queue or agent, drawn on the server as SVG."""
    today = datetime.now(zone_of(user)).date()
    if period == "week":
        start, end = today - timedelta(days=today.weekday()), today + timedelta(days=1)
    elif period == "today" or start is None:
        start, end = today, today + timedelta(days=1)
    end = end if end is not None and end > start else start + timedelta(days=1)
    try:
        found = await stats(
            db=db, user=user, app=app, start_at=start.isoformat(),
            to_at=(end - timedelta(days=1)).isoformat(), group_by=group_by,
        )  # fmt: skip
    except Problem as problem:
        return render(request, "charts.html", {"user": user, "problem": problem}, status=400)
    context = {
        "user": user, "stats": found, "charts": bars(found), "period": period,
        "start": start, "end": end - timedelta(days=1), "group_by": group_by, "problem": None,
    }  # fmt: skip
    return render(request, "charts.html", context, block="charts" if wants_block(request) else None)


@router.post("/floor/reassign")
async def reassign(
    request: Request, db: DbSession, user: ConsoleUser, app: State, temporal: Temporal
) -> Response:
    form = await request.form()

    async def step() -> list[ReassignResult]:
        body = BulkReassign(
            request_ids=[str(v) for v in form.getlist("request_ids")],
            assignee=str(form.get("assignee") or "") or None,
            queue=str(form.get("queue") or "") or None,
            reason=str(form.get("reason") or ""),
        )
        return await bulk_reassign(body, db, user, temporal)

    results, problem = await attempt(step)
    context = await floor_context(db, user, app)
    context["results"], context["problem"] = results or [], problem
    return await answer(request, context, status=problem.status if problem else 200)


@router.post("/floor/emails/resend")
async def resend_email(
    request: Request, db: DbSession, user: ConsoleUser, app: State, temporal: Temporal
) -> Response:
    """A failed e-mail once more, as rendered (the API's own resend: a double click is one)."""
    form = await request.form()
    message_id = str(form.get("message_id") or "")[:200]
    _, problem = await attempt(lambda: resend(message_id, db, user, temporal, app))
    context = await floor_context(db, user, app)
    context["problem"], context["resent"] = problem, None if problem else message_id
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

    async def step() -> None:
        patch = PersonPatch.model_validate({"availability": form.get("availability")})
        await update_user(username, patch, db, user, temporal)

    _, problem = await attempt(step)
    context = await floor_context(db, user, app)
    context["problem"] = problem
    return await answer(request, context, status=problem.status if problem else 200)
