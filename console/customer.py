"""A customer's profile in the console: each field with the source that won and the ones
that lost, phones and e-mails with their sources, the history of changes, consents,
products, offers and likely duplicates; a field changed, a consent, a product or an
offer's answer recorded — and, for supervisors and admins, merging a duplicate in and
undoing it. The API's own functions, so the page shows and refuses
exactly what the API does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from api.deps import AppSettings, DbSession, State, Temporal
from api.problems import Problem
from api.routes.customer_duplicates import customer_duplicates
from api.routes.customer_merges import MergeIn, UnmergeIn, merge_customers, unmerge_customers
from api.routes.customer_offers import (
    OutcomeIn,
    ProductIn,
    add_product,
    customer_offers,
    customer_products,
    offer_outcome,
)
from api.routes.customer_privacy import ConsentIn, customer_consents, record_consent
from api.routes.customer_profile import (
    CustomerPatch,
    customer_history,
    get_customer,
    patch_customer,
)
from caseflow.models import CustomerMerge, User
from console.session import ConsoleUser
from console.web import attempt, render, wants_block

router = APIRouter(include_in_schema=False)
CustomerId = Annotated[str, Path(max_length=64)]
SHOWN = (
    "name", "kind", "inn", "kpp", "ogrn", "segment", "tier", "status", "region", "locale",
    "address_name", "contact_person", "account_manager", "personal_manager", "contract_unit",
)  # fmt: skip


async def page_context(db: DbSession, user: User, app: Any, customer_id: str) -> dict[str, Any]:
    profile = await get_customer(customer_id, db, user, app, explain=True)
    history = await customer_history(customer_id, db, user, limit=200, cursor=None)
    merges = list(
        await db.scalars(
            select(CustomerMerge)
            .where(CustomerMerge.survivor_id == profile.id)
            .order_by(CustomerMerge.at.desc())
        )
    )
    return {
        "user": user,
        "profile": profile,
        "shown": [f for f in SHOWN if profile.explain and f in profile.explain],
        "history": list(reversed(history.items)),
        "consents": await customer_consents(customer_id, db, user),
        "products": await customer_products(customer_id, db, user),
        "offers": await customer_offers(customer_id, db, user, app),
        "duplicates": (await customer_duplicates(customer_id, db, user, app)).items,
        "merges": merges,
        "may_merge": user.role in ("supervisor", "admin"),
        "editable": EDITABLE,
        "problem": None,
        "outcome": None,
    }


async def page(
    request: Request, db: DbSession, user: User, app: Any, customer_id: str,
    problem: Problem | None = None, outcome: Any = None,
) -> Response:  # fmt: skip
    context = await page_context(db, user, app, customer_id)
    context["problem"], context["outcome"] = problem, outcome
    block = "customer" if wants_block(request) else None
    status = problem.status if problem else 200
    return render(request, "customer.html", context, block=block, status=status)


async def answered(
    request: Request, db: DbSession, user: User, app: Any, customer_id: str,
    step: Callable[[], Awaitable[Any]],
) -> Response:  # fmt: skip
    """One of the API's own steps taken from the page, and the page again: a refusal is
    said in place, with its field."""
    _, problem = await attempt(step)
    return await page(request, db, user, app, customer_id, problem)


@router.get("/customers/{customer_id}")
async def customer_page(
    request: Request, customer_id: CustomerId, db: DbSession, user: ConsoleUser, app: State
) -> Response:
    return await page(request, db, user, app, customer_id)


EDITABLE = (
    "name", "phones", "emails", "inn", "kpp", "ogrn", "region", "segment", "tier", "status",
    "locale", "address_name", "contact_person",
)  # fmt: skip
LISTS = ("phones", "emails")


@router.post("/customers/{customer_id}/edit")
async def edit_field(
    request: Request, customer_id: CustomerId, db: DbSession, user: ConsoleUser, app: State
) -> Response:
    """One field stated as the person's source (the API's PATCH): a value the rules or the
    checks refuse is said in place, with the field."""
    form = await request.form()
    field = str(form.get("field") or "")
    text = str(form.get("value") or "").strip()

    async def run() -> Any:
        if field not in EDITABLE:
            raise Problem(422, "validation_error", f"{field or 'field'}: not a field to change")
        value: Any = [v.strip() for v in text.split(",") if v.strip()] if field in LISTS else text
        body = CustomerPatch.model_validate({field: value if value != "" else None})
        return await patch_customer(customer_id, body, db, user, app)

    return await answered(request, db, user, app, customer_id, run)


@router.post("/customers/{customer_id}/consent")
async def add_consent(
    request: Request, customer_id: CustomerId, db: DbSession, user: ConsoleUser, app: State
) -> Response:
    """A consent given or withdrawn, as the customer said it now (the API's own step)."""
    form = await request.form()

    async def run() -> Any:
        granted = {"yes": True, "no": False}.get(str(form.get("granted") or ""))
        body = ConsentIn.model_validate(
            {"channel": form.get("channel"), "purpose": form.get("purpose"), "granted": granted}
        )
        return await record_consent(customer_id, body, db, user, app)

    return await answered(request, db, user, app, customer_id, run)


@router.post("/customers/{customer_id}/product")
async def add_held_product(
    request: Request, customer_id: CustomerId, db: DbSession, user: ConsoleUser, app: State
) -> Response:
    """A product the customer holds, recorded from the page (the API's own step)."""
    form = await request.form()

    async def run() -> Any:
        body = ProductIn.model_validate({
            "type": form.get("type"), "name": form.get("name"),
            "opened_on": form.get("opened_on") or None, "fraud": form.get("fraud") == "on",
        })  # fmt: skip
        return await add_product(customer_id, body, db, user, app)

    return await answered(request, db, user, app, customer_id, run)


@router.post("/customers/{customer_id}/offers/{code}")
async def answer_offer(
    request: Request,
    customer_id: CustomerId,
    code: Annotated[str, Path(max_length=64)],
    db: DbSession,
    user: ConsoleUser,
    app: State,
) -> Response:
    """The customer's answer to an offer (accepted, declined, later), into their timeline."""
    form = await request.form()

    async def run() -> Any:
        body = OutcomeIn.model_validate(
            {"outcome": form.get("outcome"), "comment": form.get("comment") or None}
        )
        return await offer_outcome(customer_id, code, body, db, user, app)

    return await answered(request, db, user, app, customer_id, run)


@router.post("/customers/{customer_id}/{step}")
async def merge_step(
    request: Request,
    customer_id: CustomerId,
    step: Annotated[str, Path(pattern="^(merge|unmerge)$")],
    db: DbSession,
    user: ConsoleUser,
    app: State,
    temporal: Temporal,
    settings: AppSettings,
) -> Response:
    """A duplicate merged into this customer, or a merge undone (the API's own steps)."""
    form = await request.form()

    async def run() -> Any:
        if step == "merge":
            body = MergeIn.model_validate(
                {"duplicates": [str(form.get("duplicate") or "")], "reason": form.get("reason")}
            )
            return await merge_customers(customer_id, body, db, user, temporal, settings)
        undo = UnmergeIn.model_validate({"merge_id": form.get("merge_id")})
        return await unmerge_customers(customer_id, undo, db, user, temporal, settings)

    outcome, problem = await attempt(run)
    return await page(request, db, user, app, customer_id, problem, outcome)
