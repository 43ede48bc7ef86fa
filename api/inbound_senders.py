"""Who wrote an e-mail that opens a case: the customer whose address it is, or a new
prospect made for an unknown sender — with, on the case, the known customers they are likely
to be (the agent decides). Part of filing mail in (`api.inbound_mail`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.actions import perform
from api.problems import Problem
from api.routes.customers import CustomerIn, create_customer
from api.state import AppState
from caseflow.customers import identity, keys
from caseflow.mail.inbound import Inbound
from caseflow.models import Request, User


@dataclass(frozen=True)
class Intake:
    """Where a new case from e-mail goes and whom an unknown sender becomes."""

    topic: str = "consultation"
    region: str = "RU-MOW"
    segment: str = "b2c"


async def suggest(
    db: AsyncSession,
    state: AppState,
    user: User,
    request_id: str,
    mail: Inbound,
    possible: list[dict[str, Any]],
) -> None:
    """A note on the case naming the known customers the unknown sender may be."""
    case = await db.get(Request, request_id)
    if case is None:
        return
    lines = [
        f"- {p['name']} (совпадение {p['score']}: {', '.join(p['matched'])}) "
        f"/customers/{p['customer_id']}"
        for p in possible[:5]
    ]
    note = f"Отправитель {mail.sender} не найден среди клиентов. Возможно, это:\n" + "\n".join(
        lines
    )
    await perform(
        db, user, state.temporal, case, "comment", {"text": note[:20000]},
        key=f"mail:{mail.key}:possible",
    )  # fmt: skip


async def sender_customer(
    db: AsyncSession, state: AppState, user: User, mail: Inbound, intake: Intake
) -> tuple[str, list[dict[str, Any]]]:
    """The customer whose e-mail address wrote; an unknown sender becomes a prospect, with
    the known customers they are likely to be."""
    try:
        address = identity.email(mail.sender)
    except identity.InvalidIdentifier as exc:
        raise Problem(422, "validation_error", f"sender: {exc}") from exc
    known = await owner_of(db, address)
    if known is not None:
        return known, []
    body = CustomerIn(
        kind="person", name=(mail.sender_name or address)[:300], emails=[address],
        region=intake.region, segment=intake.segment, status="prospect",
    )  # fmt: skip
    try:
        answer = await create_customer(body, db, user, state, idempotency_key=f"mail:{address}")
    except (Problem, IntegrityError) as exc:  # registered a moment ago by another message
        await db.rollback()
        await db.refresh(user)  # a rollback leaves what the session held unloaded
        taken = isinstance(exc, IntegrityError) or exc.status == 409
        known = await owner_of(db, address) if taken else None
        if known is None:
            raise
        return known, []
    made: dict[str, Any] = json.loads(bytes(answer.body))
    return str(made["id"]), list(made.get("possible_duplicates") or [])


async def owner_of(db: AsyncSession, address: str) -> str | None:
    """Whose the (normalised) e-mail address is: the deterministic key's owner."""
    return (await keys.owners(db, [("email", address)])).get(("email", address))
