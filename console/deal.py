"""A deal's page: its stage among the pipeline's, the checklist of what leaving the stage
asks for (computed by the gate the workflow uses, over the customer's profile as it is
now), its fields editable in place, its tasks, its history, and the moves — live, woken by
the change feed whenever the deal or one of its tasks changes.

The moves post to the board's own handlers (`console/deals.py`), which answer with this
page again when the form says `back=deal`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sse_starlette import EventSourceResponse
from starlette.requests import Request
from starlette.responses import Response

from api.deps import DbSession, State
from api.problems import Problem
from api.routes.deal_events import deal_events
from api.routes.deals import DealOut, customer_facts, from_row, require_seller
from caseflow import access
from caseflow.access import Kind
from caseflow.deals.gates import Check, checklist, values_of
from caseflow.deals.pipelines import PipelineTerms
from caseflow.models import Customer, Deal, User
from console.feed import DEAL, ChangeFeed
from console.live import PING, changes
from console.session import ConsoleUser
from console.web import render, wants_block

router = APIRouter(include_in_schema=False)
DealId = Annotated[str, Path(max_length=64)]


def editable(terms: PipelineTerms | None, deal: DealOut) -> list[str]:
    """The deal's own fields a manager may fill in: every one any stage asks for, in the
    pipeline's order, then any others it holds (the profile's `customer.*` are not here)."""
    names: list[str] = []
    for stage in terms.stages if terms is not None else []:
        names += [r.field for r in stage.required]
        names += [f for rule in stage.rules for f in rule.fields]
    names += list(deal.fields)
    return [n for i, n in enumerate(names) if "." not in n and n not in names[:i]]


async def page_context(
    db: AsyncSession, user: User, app: Any, deal_id: str, problem: Problem | None = None
) -> dict[str, Any]:
    require_seller(user)
    row = await access.deal(db, user, deal_id)  # not visible: 404
    deal = await from_row(db, row)
    customer = await db.scalar(
        select(Customer).where(Customer.id == row.customer_id, access.where(Kind.CUSTOMER, user))
    )
    profile = await customer_facts(db, customer) if customer is not None else {}
    terms: PipelineTerms | None = app.pipelines.get(row.pipeline)
    stage = next((s for s in terms.stages if s.code == row.stage), None) if terms else None
    checks: list[Check] = []
    if stage is not None and deal.status == "open":
        values = values_of(deal.amount, deal.currency, deal.fields, profile)
        checks = checklist(stage, values, deal.tasks)
    history = await deal_events(deal_id=row.id, db=db, user=user, limit=200, cursor=None)
    return {
        "user": user,
        "deal": deal,
        "customer": customer,
        "profile": profile,
        "terms": terms,
        "stage": stage,
        "checks": checks,
        "titles": {t.id: t.title for t in deal.tasks},
        "fields": editable(terms, deal),
        "history": list(reversed(history.items)),
        "problem": problem,
    }


async def page(
    request: Request, db: AsyncSession, user: User, app: Any, deal_id: str,
    problem: Problem | None = None,
) -> Response:  # fmt: skip
    try:
        context = await page_context(db, user, app, deal_id, problem)
    except Problem as refused:
        if refused.status != 403:
            raise
        return render(request, "refused.html", {"user": user, "problem": refused}, status=403)
    block = "deal" if wants_block(request) else None
    return render(
        request, "deal.html", context, block=block, status=problem.status if problem else 200
    )


@router.get("/deals/{deal_id}/live")
async def deal_live(
    request: Request, deal_id: DealId, db: DbSession, user: ConsoleUser, app: State
) -> EventSourceResponse:
    require_seller(user)
    row = await access.deal(db, user, deal_id)  # not visible: 404, no stream
    await db.close()  # the stream holds no connection between looks

    async def version(session: AsyncSession) -> Any:
        return await session.scalar(select(Deal.updated_at).where(Deal.id == row.id))

    feed: ChangeFeed = request.app.state.console_feed
    stream = changes(request, app.sessions, feed, version, f"{DEAL}{row.id}")
    return EventSourceResponse(stream, ping=PING)


@router.get("/deals/{deal_id}")
async def deal_page(
    request: Request,
    deal_id: DealId,
    db: DbSession,
    user: ConsoleUser,
    app: State,
) -> Response:
    return await page(request, db, user, app, deal_id)
