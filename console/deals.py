"""The manager's deals board: a column per stage of a pipeline, a card per open deal, and
the moves on it — the deals API's own functions (`api/routes/deals.py`,
`api/routes/deal_tasks.py`), so a refused move says exactly what the API's 409 says."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sse_starlette import EventSourceResponse
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from api.deps import DbSession, State, Temporal
from api.problems import Problem
from api.routes.deal_tasks import ResultIn, task_action, tasks
from api.routes.deals import (
    AdvanceIn,
    BackIn,
    FieldsIn,
    ReasonIn,
    act,
    list_deals,
    require_seller,
)
from caseflow import access
from caseflow.access import Kind
from caseflow.models import Customer, Deal, User
from console.deal import page as show_deal
from console.feed import ANY_DEAL, ChangeFeed
from console.i18n import N_
from console.live import PING, changes
from console.session import ConsoleUser
from console.web import attempt, render, wants_block

router = APIRouter(include_in_schema=False)
INTEGER = re.compile(r"^-?\d{1,15}$")
DECIMAL = re.compile(r"^-?\d{1,15}\.\d{1,6}$")
DealId = Annotated[str, Path(max_length=64)]


async def board_context(
    db: DbSession, user: User, app: Any, pipeline: str | None
) -> dict[str, Any]:
    require_seller(user)
    pipelines = app.pipelines
    if not pipelines:
        raise Problem(404, "not_found", "no pipelines are configured")
    terms = pipelines.get(pipeline or "") or next(iter(pipelines.values()))
    page = await list_deals(
        db=db, user=user, stage=None, owner=None, status="open", pipeline=terms.name,
        limit=200, cursor=None,
    )  # fmt: skip
    ids = {d.customer_id for d in page.items}
    names = dict(
        (
            await db.execute(
                select(Customer.id, Customer.name).where(
                    Customer.id.in_(ids), access.where(Kind.CUSTOMER, user)
                )
            )
        ).all()
    )
    now = datetime.now(UTC)
    return {
        "user": user,
        "pipelines": list(pipelines.values()),
        "terms": terms,
        "columns": [(s, [d for d in page.items if d.stage == s.code]) for s in terms.stages],
        "names": names,
        "now": now,
        "problem": None,
        "problem_for": None,
    }


async def board(
    request: Request,
    db: DbSession,
    user: User,
    app: Any,
    pipeline: str | None,
    problem: Problem | None = None,
    deal_id: str | None = None,
) -> Response:
    try:
        context = await board_context(db, user, app, pipeline)
    except Problem as refused:
        return render(request, "refused.html", {"user": user, "problem": refused}, status=403)
    context["problem"], context["problem_for"] = problem, deal_id
    context["refusal"] = refusal(problem, context, deal_id)
    block = "board" if wants_block(request) else None
    status = problem.status if problem else 200
    return render(request, "deals.html", context, block=block, status=status)


def refusal(problem: Problem | None, context: dict[str, Any], deal_id: str | None) -> Any:
    """What a refused move lacks, as the card lists it: each missing thing with its reason,
    the deal's own fields to fill in there, the tasks to complete there."""
    missing = problem.extensions.get("missing", []) if problem is not None else []
    deal = next((d for _, cards in context["columns"] for d in cards if d.id == deal_id), None)
    titles = {t.id: t.title for t in deal.tasks} if deal is not None else {}
    listed, fields, tasks = [], [], []
    for item in missing:
        if item.get("task") is not None:
            title = titles.get(item["task"], f"task {item['task']}")
            listed.append((title, item["reason"]))
            tasks.append((item["task"], title))
        else:
            names = [item["field"]] if item.get("field") else list(item.get("fields", []))
            listed.append((", ".join(names), item["reason"]))
            fields += [n for n in names if "." not in n and n not in fields]  # customer.*: profile
    return {"missing": listed, "fields": fields, "tasks": tasks}


@router.get("/deals/board")
async def deals_board(
    request: Request,
    db: DbSession,
    user: ConsoleUser,
    app: State,
    pipeline: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    return await board(request, db, user, app, pipeline)


@router.get("/deals/live")
async def board_live(
    request: Request, db: DbSession, user: ConsoleUser, app: State
) -> EventSourceResponse:
    require_seller(user)
    await db.close()

    async def newest(session: AsyncSession) -> Any:
        return await session.scalar(select(func.max(Deal.updated_at)))

    feed: ChangeFeed = request.app.state.console_feed
    return EventSourceResponse(changes(request, app.sessions, feed, newest, ANY_DEAL), ping=PING)


def scalar(text: str) -> int | float | str:
    """What a person typed: a whole number, a decimal one, or words."""
    if INTEGER.match(text):
        return int(text)
    if DECIMAL.match(text):
        return float(text)
    return text


def fields_of(form: FormData) -> dict[str, Any]:
    """`field:<name>` inputs that were filled in."""
    return {
        key.removeprefix("field:"): scalar(value.strip())
        for key, value in form.multi_items()
        if key.startswith("field:") and isinstance(value, str) and value.strip()
    }


@router.post("/deals/{deal_id}/{move}")
async def move(
    request: Request,
    deal_id: DealId,
    move: Annotated[str, Path(pattern="^(advance|back|fields|win|lose)$")],
    db: DbSession,
    user: ConsoleUser,
    app: State,
    temporal: Temporal,
) -> Response:
    form = await request.form()

    async def step() -> None:
        if move == "advance":
            data = AdvanceIn().model_dump()
            await act(db, user, temporal, deal_id, {"name": "advance", **data})
        elif move == "back":
            body = BackIn(
                to_stage=str(form.get("to_stage") or ""), reason=str(form.get("reason") or "")
            )
            await act(db, user, temporal, deal_id, {"name": "back", **body.model_dump()})
        elif move in ("win", "lose"):
            closing = ReasonIn(reason=str(form.get("reason") or "") or None)
            await act(db, user, temporal, deal_id, {"name": move, **closing.model_dump()})
        else:
            fields = FieldsIn(fields=fields_of(form)).fields
            await act(db, user, temporal, deal_id, {"name": "patch", "fields": fields})

    _, problem = await attempt(step)
    return await answer(request, form, db, user, app, problem, deal_id)


async def answer(
    request: Request, form: FormData, db: DbSession, user: User, app: Any,
    problem: Problem | None, deal_id: str,
) -> Response:  # fmt: skip
    """The page the step was taken on, as it is now: the deal's own page or the board."""
    if form.get("back") == "deal":
        return await show_deal(request, db, user, app, deal_id, problem)
    return await board(request, db, user, app, str(form.get("pipeline") or ""), problem, deal_id)


@router.get("/tasks")
async def my_tasks(
    request: Request,
    db: DbSession,
    user: ConsoleUser,
    overdue: Annotated[bool | None, Query()] = None,
) -> Response:
    return await task_list(request, db, user, None, overdue)


async def task_list(
    request: Request,
    db: DbSession,
    user: User,
    problem: Problem | None,
    overdue: bool | None = None,
) -> Response:
    """The person's open tasks across deals, soonest due first (the API's own list):
    overdue, due today, later."""
    page = await tasks(
        db=db, user=user, assignee="me", overdue=overdue, status="open", limit=200, cursor=None
    )
    now = datetime.now(UTC)
    groups = {
        N_("Overdue"): [t for t in page.items if t.overdue],
        N_("Due today"): [t for t in page.items if not t.overdue and t.due_at.date() == now.date()],
        N_("Later"): [t for t in page.items if not t.overdue and t.due_at.date() > now.date()],
    }
    context = {"user": user, "groups": groups, "overdue": overdue, "problem": problem}
    block = "tasks" if wants_block(request) else None
    return render(
        request, "tasks.html", context, block=block, status=problem.status if problem else 200
    )


@router.post("/deals/{deal_id}/tasks/{task_id}/complete")
async def complete(
    request: Request,
    deal_id: DealId,
    task_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    db: DbSession,
    user: ConsoleUser,
    app: State,
    temporal: Temporal,
) -> Response:
    form = await request.form()

    async def step() -> None:
        result = ResultIn(result=str(form.get("result") or "") or None)
        await task_action(deal_id, task_id, "complete", db, user, temporal, result)

    _, problem = await attempt(step)
    if form.get("back") == "tasks":  # completed from the task list: the list again
        return await task_list(request, db, user, problem)
    return await answer(request, form, db, user, app, problem, deal_id)
