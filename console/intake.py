"""The operator's intake screen: find the caller's customer as you type, see their card,
pick a topic (hints, fields, proofs), check identification, register — through the API's
own functions (`list_customers`, `intake_check`, `register_request`), so the screen and
the API agree on every rule. One Idempotency-Key per form: a double click is one request."""

from __future__ import annotations

import json
import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from api.deps import AppSettings, DbSession, State, Temporal
from api.problems import Problem
from api.request_reads import RequestFilters, request_page
from api.request_views import RequestOut
from api.routes.customer_offers import OutcomeIn, customer_offers, offer_outcome
from api.routes.customers import (
    CustomerIn,
    CustomerOut,
    contacts_of,
    create_customer,
    list_customers,
    to_out,
)
from api.routes.intake import IntakeIn, intake_check, representatives
from api.routes.interactions import interactions
from api.routes.requests import RequestIn, register_request
from caseflow import access
from caseflow.access import NotVisible
from caseflow.requests.lifecycle import OPEN_STATES
from caseflow.requests.topics import Topic, TopicBook
from console.session import ConsoleUser
from console.web import attempt, render, wants_block

router = APIRouter(include_in_schema=False)
PHONE_LIKE = re.compile(r"^[\d\s()+\-.]{7,}$")
Text = Annotated[str | None, Query(max_length=200)]


def search_keys(text: str) -> list[dict[str, str]]:
    """What the operator typed, read as the identifiers it could be (most specific first)."""
    text, digits = text.strip(), re.sub(r"\D", "", text)
    if "@" in text:
        return [{"email": text}]
    if PHONE_LIKE.match(text):
        keys = []
        if len(digits) in (10, 12) and text.isdigit():
            keys.append({"inn": digits})
        if len(digits) in (13, 15) and text.isdigit():
            keys.append({"ogrn": digits})
        return [*keys, {"phone": text}]
    return [{"q": text}]


async def find(db: DbSession, user: Any, text: str) -> list[CustomerOut]:
    found: dict[str, CustomerOut] = {}
    for key in search_keys(text):
        params = {"q": None, "inn": None, "ogrn": None, "phone": None, "email": None} | key
        try:
            page = await list_customers(db=db, user=user, limit=20, cursor=None, **params)
        except Problem:  # not a phone after all (the API says why): nothing found by it
            continue
        found.update((c.id, c) for c in page.items)
    return list(found.values())


def topic_or_default(book: TopicBook, code: str | None) -> tuple[str, Topic]:
    if code and code in book.topics:
        return code, book.topics[code]
    first = "consultation" if "consultation" in book.topics else next(iter(book.topics))
    return first, book.topics[first]


def proofs_of(topic: Topic) -> list[str]:
    return sorted({proof for option in topic.identification for proof in option})


async def page_context(
    db: DbSession, user: Any, app: Any, customer_id: str | None, topic_code: str | None
) -> dict[str, Any]:
    customer = None
    open_requests: list[Any] = []
    card: dict[str, Any] = {"representatives": [], "interactions": [], "offers": None}
    if customer_id:
        try:
            row = await access.customer(db, user, customer_id)
        except NotVisible:
            row = None
        if row is not None:
            customer = await find_by_id(db, user, row.id)
            filters = RequestFilters(customer_id=row.id, states=tuple(sorted(OPEN_STATES)))
            open_requests = (await request_page(db, user, filters, limit=20, cursor=None)).items
            people = await representatives(row.id, db, user)
            offered = await customer_offers(customer_id=row.id, db=db, user=user, app=app)
            card = {"representatives": people, "interactions": [], "offers": offered}
    code, topic = topic_or_default(app.topics, topic_code)
    return {
        "user": user,
        "customer": customer,
        "open_requests": open_requests,
        **card,
        "topics": app.topics.topics,
        "topic_code": code,
        "topic": topic,
        "proofs": proofs_of(topic),
        "key": uuid.uuid4().hex,
        "check": None,
        "registered": None,
        "problem": None,
        "form": {},
        "proved": [],
    }


async def find_by_id(db: DbSession, user: Any, customer_id: str) -> CustomerOut | None:
    """The customer as the API's `get_customer` shows them, if the caller may see them."""
    try:
        customer = await access.customer(db, user, customer_id)
    except NotVisible:
        return None
    return to_out(customer, (await contacts_of(db, [customer.id]))[customer.id])


@router.get("/intake")
async def intake_page(
    request: Request,
    db: DbSession,
    user: ConsoleUser,
    app: State,
    customer_id: Annotated[str | None, Query(max_length=64)] = None,
    topic: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    context = await page_context(db, user, app, customer_id, topic)
    block = "intake" if wants_block(request) else None
    return render(request, "intake.html", context, block=block)


@router.get("/intake/history")
async def history(
    request: Request,
    db: DbSession,
    user: ConsoleUser,
    customer_id: Annotated[str, Query(max_length=64)],
) -> Response:
    """The card's interaction history, fetched after the card shows: for a customer with a
    long history the timeline query is the slowest part, and the operator is on the phone."""
    found = await interactions(
        customer_id=customer_id, db=db, user=user, channel=None, since=None, until=None,
        limit=15, cursor=None,
    )  # fmt: skip
    context = {"user": user, "interactions": found.items, "loaded": True}
    return render(request, "intake.html", context, block="history")


@router.get("/intake/find")
async def find_customers(
    request: Request, db: DbSession, user: ConsoleUser, q: Text = None
) -> Response:
    found = await find(db, user, q) if q and len(q.strip()) >= 2 else []
    context = {"user": user, "found": found, "q": q or "", "key": uuid.uuid4().hex, "form": {}}
    return render(request, "intake.html", context, block="found")


def typed(topic: Topic, name: str, value: str) -> Any:
    spec = topic.fields.get(name)
    kind = spec.type if spec is not None else "string"
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value.replace(",", "."))
    except ValueError:
        return value  # the API says what is wrong with it
    return value


def body_of(form: FormData, topic_code: str, topic: Topic) -> dict[str, Any]:
    fields = {
        name.removeprefix("field:"): typed(topic, name.removeprefix("field:"), value.strip())
        for name, value in form.multi_items()
        if name.startswith("field:") and isinstance(value, str) and value.strip()
    }
    contact = str(form.get("contact_id") or "")
    return {
        "customer_id": str(form.get("customer_id") or ""),
        "contact_id": int(contact) if contact.isdigit() else None,
        "topic": topic_code,
        "proofs": [str(p) for p in form.getlist("proofs")],
        "fields": fields,
    }


@router.post("/intake/customer")
async def new_customer(request: Request, db: DbSession, user: ConsoleUser, app: State) -> Response:
    """Create the caller's customer in place; a duplicate is named, never created."""
    form = await request.form()

    def text(name: str) -> str | None:
        value = form.get(name)
        return value.strip() or None if isinstance(value, str) else None

    async def step() -> Response:
        body = CustomerIn.model_validate(
            {
                "kind": text("kind") or "person",
                "name": text("name") or "",
                "inn": text("inn"),
                "kpp": text("kpp"),
                "phones": [p for p in [text("phone")] if p],
                "emails": [e for e in [text("email")] if e],
                "region": text("region") or "",
                "segment": text("segment") or "",
            }
        )
        answer = await create_customer(body, db, user, app, idempotency_key=text("key"))
        created = CustomerOut.model_validate_json(bytes(answer.body))
        target = f"/intake?customer_id={created.id}"
        return Response(status_code=204, headers={"HX-Redirect": target})

    created, problem = await attempt(step)
    if created is not None:
        return created
    assert problem is not None
    context = {"user": user, "problem": problem, "form": form, "key": text("key")}
    return render(request, "intake.html", context, block="new_customer", status=problem.status)


@router.post("/intake/offers/{code}")
async def offer_answer(
    request: Request,
    code: Annotated[str, Path(max_length=64, pattern=r"^[a-z0-9][a-z0-9_]*$")],
    db: DbSession,
    user: ConsoleUser,
    app: State,
) -> Response:
    """The customer's answer to an offer on the card (the API's `offer_outcome`)."""
    form = await request.form()
    customer_id = str(form.get("customer_id") or "")

    async def run() -> None:
        answer = OutcomeIn.model_validate({"outcome": form.get("outcome")})
        await offer_outcome(customer_id, code, answer, db, user, app)

    _, problem = await attempt(run)
    context = await page_context(db, user, app, customer_id, str(form.get("topic") or ""))
    context["problem"] = problem
    block = "intake" if wants_block(request) else None
    return render(
        request, "intake.html", context, block=block, status=problem.status if problem else 200
    )


@router.post("/intake/{step}")
async def intake_step(
    request: Request,
    step: Annotated[str, Path(pattern="^(check|register)$")],
    db: DbSession,
    user: ConsoleUser,
    app: State,
    temporal: Temporal,
    settings: AppSettings,
) -> Response:
    form = await request.form()
    code, topic = topic_or_default(app.topics, str(form.get("topic") or ""))
    context = await page_context(db, user, app, str(form.get("customer_id") or ""), code)
    context["form"] = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    context["proved"] = [str(p) for p in form.getlist("proofs")]
    context["key"] = str(form.get("key") or context["key"])[:64]
    body = body_of(form, code, topic)

    async def run() -> None:
        if step == "check":
            context["check"] = await intake_check(IntakeIn.model_validate(body), db, user, app)
        else:
            full = RequestIn.model_validate(
                body | {
                    "channel": str(form.get("channel") or "phone"),
                    "subject": str(form.get("subject") or ""),
                    "description": str(form.get("description") or ""),
                }
            )  # fmt: skip
            answer = await register_request(
                full, db, user, temporal, settings, app, idempotency_key=context["key"]
            )
            raw = bytes(answer.body)
            context["registered"] = (
                RequestOut.model_validate_json(raw)
                if answer.status_code == 201
                else json.loads(raw)
            )  # 202: accepted, still registering
            # The card lists it among the open requests; the form is fresh for the next call.
            fresh = await page_context(db, user, app, body["customer_id"], code)
            context.update(open_requests=fresh["open_requests"], key=fresh["key"], form={})
            context["proved"] = []

    _, context["problem"] = await attempt(run)
    status = context["problem"].status if context["problem"] else 200
    block = "intake" if wants_block(request) else None
    return render(request, "intake.html", context, block=block, status=status)
