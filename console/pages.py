"""The agent's pages: the queues with live SLA countdowns, the case page with its allowed
actions, and the actions themselves (the API's own `perform`, with the page's version)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from api.actions import BODIES, perform
from api.deps import AppSettings, DbSession, State, Temporal
from api.problems import Problem
from api.queue_views import VIEWS, views_for
from api.request_reads import counts, event_page, request_now, request_page
from api.routes.notifications import of_request
from caseflow import access
from caseflow.access import NotVisible
from caseflow.models import Customer, SlaClock, User
from caseflow.requests.snippets import SnippetBook
from console.forms import body_of, fields_of
from console.i18n import N_
from console.session import ConsoleUser
from console.web import render, wants_block

router = APIRouter(include_in_schema=False)
PAGE = 50


# The queue's views in the console's words (the views themselves: api.queue_views).
TITLES = {
    "mine": N_("Mine"),
    "team": N_("My team's"),
    "waiting": N_("Waiting for the customer"),
    "breached": N_("Breached"),
    "open": N_("All open"),
}


@dataclass(frozen=True)
class Due:
    at: datetime | None
    kind: str
    warned: bool
    breached: bool


async def dues(db: DbSession, ids: list[str]) -> dict[str, Due]:
    """Each listed request's most pressing running clock (breached first, then soonest)."""
    rows = await db.execute(
        select(
            SlaClock.request_id,
            SlaClock.due_at,
            SlaClock.kind,
            SlaClock.warned_at,
            SlaClock.breached_at,
        ).where(SlaClock.request_id.in_(ids), SlaClock.stopped_at.is_(None), SlaClock.request_open)
    )
    found: dict[str, Due] = {}

    def pressing(due: Due) -> tuple[bool, float]:
        return due.breached, -(due.at.timestamp() if due.at else float("inf"))

    for request_id, due_at, kind, warned_at, breached_at in rows:
        due = Due(due_at, kind, warned_at is not None, breached_at is not None)
        held = found.get(request_id)
        if held is None or pressing(due) > pressing(held):
            found[request_id] = due
    return found


@router.get("/")
async def home(user: ConsoleUser) -> Response:
    return RedirectResponse("/queue", status_code=303)


@router.get("/queue")
async def queue(
    request: Request,
    db: DbSession,
    user: ConsoleUser,
    view: Annotated[str, Query(max_length=16)] = "mine",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    shown = views_for(user)
    chosen = next((v for v in shown if v.code == view), shown[0])
    page = await request_page(db, user, chosen.filters(user), limit=PAGE, cursor=cursor)
    numbers = await counts(db, user, {v.code: v.filters(user) for v in shown})
    context = {
        "user": user,
        "views": shown,
        "view": chosen,
        "titles": TITLES,
        "counts": numbers,
        "page": page,
        "dues": await dues(db, [r.id for r in page.items]),
    }
    return render(request, "queue.html", context, block="queue" if wants_block(request) else None)


async def case_context(
    db: DbSession,
    user: User,
    temporal: Any,
    app: Any,
    request_id: str,
    book: SnippetBook,
    *,
    actions: bool = True,
) -> dict[str, Any]:
    """What the case page shows; `actions=False` for the live block alone (it is fetched on
    every change and shows no forms, canned answers or next case)."""
    view = await request_now(db, user, temporal, app.calendars, request_id)
    events = await event_page(db, user, request_id, limit=200, cursor=None)
    emails = await of_request(request_id=request_id, db=db, user=user, limit=50, cursor=None)
    try:
        customer: Customer | None = await access.customer(db, user, view.customer_id)
    except NotVisible:
        customer = None
    forms: dict[str, Any] = {}
    canned: dict[str, str] = {}
    following = None
    if actions:
        forms = {name: fields_of(name) for name in view.allowed_actions if name in BODIES}
        addressed = (customer.address_name or customer.name) if customer is not None else ""
        filled = {"customer": addressed, "number": view.number or "", "subject": view.subject}
        locale = customer.locale if customer is not None else "ru"
        canned = book.for_case(view.topic, locale, filled | {"agent": user.full_name})
        mine = await request_page(db, user, VIEWS[0].filters(user), limit=2, cursor=None)
        following = next((r for r in mine.items if r.id != view.id), None)
    return {
        "user": user,
        "case": view,
        "customer": customer,
        "events": events.items,
        "emails": emails.items,
        "forms": forms,
        "problem": None,
        "changes": [],
        "key": uuid.uuid4().hex,  # one Idempotency-Key per form shown: a double click is one
        "next_case": following,
        "topics": app.topics,
        "snippets": canned,
    }


CaseId = Annotated[str, Path(max_length=64)]


def snippets_of(request: Request) -> SnippetBook:
    book: SnippetBook = request.app.state.snippets
    return book


@router.get("/cases/{request_id}")
async def case_page(
    request: Request,
    request_id: CaseId,
    db: DbSession,
    user: ConsoleUser,
    temporal: Temporal,
    app: State,
    part: Annotated[str | None, Query(pattern="^(live|case)$")] = None,
    seen: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    try:
        live_only = part == "live" and wants_block(request)
        context = await case_context(
            db, user, temporal, app, request_id, snippets_of(request), actions=not live_only
        )
    except NotVisible:
        return render(request, "missing.html", {"user": user}, status=404)
    context["seen"] = context["case"].last_seq if seen is None else seen
    block = part if wants_block(request) else None
    return render(request, "case.html", context, block=block)


@router.post("/cases/{request_id}/actions/{name}")
async def act(
    request: Request,
    request_id: CaseId,
    name: Annotated[str, Path(max_length=32)],
    db: DbSession,
    user: ConsoleUser,
    temporal: Temporal,
    app: State,
    settings: AppSettings,
) -> Response:
    form = await request.form()
    try:
        row = await access.request(db, user, request_id)
    except NotVisible:
        return render(request, "missing.html", {"user": user}, status=404)
    if name not in BODIES:
        return render(request, "missing.html", {"user": user}, status=404)
    raw_version = str(form.get("version") or "")
    version = int(raw_version) if raw_version.isdigit() else None
    key = str(form.get("key") or "")[:64] or None
    problem: Problem | None = None
    try:
        await perform(
            db, user, temporal, row, name, body_of(name, form), app.ticketing,
            deadline=settings.intake_deadline, key=key, version=version,
        )  # fmt: skip
    except Problem as exc:
        problem = exc
    try:
        context = await case_context(db, user, temporal, app, request_id, snippets_of(request))
    except NotVisible:  # done, and the case went where this person does not see it
        left = {"user": user, "done": row.number}
        return render(request, "missing.html", left, block="main" if wants_block(request) else None)
    context["seen"] = context["case"].last_seq
    if problem is not None:
        context["problem"], context["failed"] = problem, name
        if problem.code == "stale" and version is not None:
            since = await event_page(db, user, request_id, limit=50, cursor=None, after=version)
            context["changes"] = since.items
    status = problem.status if problem is not None else 200
    block = "case" if wants_block(request) else None
    return render(request, "case.html", context, block=block, status=status)
