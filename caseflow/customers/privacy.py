"""A person's data on request: everything Caseflow holds about a customer (`export`), and
its irreversible erasure (`anonymise`) — personal data goes, the statistics of their cases
(when, which topic, which line, how long, SLA met or not) and the audit trail stay.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.customers import consent
from caseflow.models import (
    Customer,
    CustomerChange,
    CustomerConsent,
    CustomerContact,
    CustomerFact,
    CustomerMatchKey,
    Deal,
    Interaction,
    Notification,
    Representative,
    Request,
    RequestEvent,
    RequestFile,
    StoredFileRow,
)
from caseflow.requests.lifecycle import FINAL_STATES

ERASED = "[удалено]"
PROFILE = (
    "id", "kind", "name", "inn", "kpp", "ogrn", "region", "segment", "tier", "status",
    "personal_manager", "account_manager", "contract_unit", "planned_volume", "locale",
    "gender", "timezone", "address_form", "address_name", "contact_person", "source",
    "created_by", "created_at", "merged_into", "anonymised_at",
)  # fmt: skip


class StillOpen(Exception):
    def __init__(self, requests: int, deals: int) -> None:
        super().__init__(f"{requests} open request(s) and {deals} open deal(s)")
        self.requests, self.deals = requests, deals


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _rows(rows: Any, *names: str) -> list[dict[str, Any]]:
    return [{n: _plain(getattr(r, n)) for n in names} for r in rows]


async def export(db: AsyncSession, customer: Customer) -> dict[str, Any]:
    """Everything held about the customer, as plain data."""
    cid = customer.id
    requests = list(await db.scalars(select(Request).where(Request.customer_id == cid)))
    request_ids = [r.id for r in requests]

    async def of(model: Any, *criteria: Any) -> list[Any]:
        return list(await db.scalars(select(model).where(*criteria)))

    return {
        "profile": {n: _plain(getattr(customer, n)) for n in PROFILE},
        "contacts": _rows(
            await of(CustomerContact, CustomerContact.customer_id == cid), "kind", "value"
        ),
        "sources": _rows(
            await of(CustomerFact, CustomerFact.customer_id == cid),
            "field", "source", "value", "at", "by",
        ),
        "history": _rows(
            await of(CustomerChange, CustomerChange.customer_id == cid),
            "field", "before", "after", "source", "by", "at", "reason",
        ),
        "consents": _rows(
            await consent.statements(db, cid),
            "channel", "purpose", "granted", "source", "captured_at", "valid_until",
        ),
        "representatives": _rows(
            await of(Representative, Representative.customer_id == cid),
            "name", "position", "phone", "email", "authorities", "created_at",
        ),
        "requests": _rows(
            requests, "number", "created_at", "channel", "topic", "subject", "description",
            "state", "line", "fields",
        ),
        "deals": _rows(
            await of(Deal, Deal.customer_id == cid),
            "title", "pipeline", "stage", "status", "amount", "currency", "created_at",
        ),
        "interactions": _rows(
            await of(Interaction, Interaction.customer_id == cid),
            "at", "channel", "category", "comment", "author",
        ),
        "emails": _rows(
            await of(Notification, Notification.customer_id == cid),
            "message_id", "recipient", "subject", "status", "created_at", "sent_at",
        ),
        "files": _rows(
            await of(RequestFile, RequestFile.request_id.in_(request_ids)),
            "request_id", "filename", "content_type", "size", "sha256", "at",
        ),
    }  # fmt: skip


async def anonymise(db: AsyncSession, customer: Customer, now: datetime) -> dict[str, int]:
    """The customer's personal data erased, for good; refused (StillOpen) while one of their
    requests or deals is open. Answers how many records of each kind were touched."""
    cid = customer.id
    open_requests = await db.scalar(
        select(func.count()).where(
            Request.customer_id == cid, Request.state.not_in([s.value for s in FINAL_STATES])
        )
    )
    open_deals = await db.scalar(
        select(func.count()).where(Deal.customer_id == cid, Deal.status == "open")
    )
    if open_requests or open_deals:
        raise StillOpen(open_requests or 0, open_deals or 0)
    request_ids = select(Request.id).where(Request.customer_id == cid).scalar_subquery()
    touched: dict[str, int] = {}

    async def run(kind: str, statement: Any) -> None:
        result: CursorResult[Any] = await db.execute(statement)  # type: ignore[assignment]
        touched[kind] = result.rowcount or 0

    await run("contacts", delete(CustomerContact).where(CustomerContact.customer_id == cid))
    await run("sources", delete(CustomerFact).where(CustomerFact.customer_id == cid))
    await run("consents", delete(CustomerConsent).where(CustomerConsent.customer_id == cid))
    await db.execute(delete(CustomerMatchKey).where(CustomerMatchKey.customer_id == cid))
    await run(
        "history",
        update(CustomerChange)
        .where(CustomerChange.customer_id == cid)
        .values(before=None, after=None),
    )
    await run(
        "representatives",
        update(Representative)
        .where(Representative.customer_id == cid)
        .values(name=ERASED, position=None, phone=None, email=None, authorities=[]),
    )
    await run(
        "interactions",
        update(Interaction).where(Interaction.customer_id == cid).values(comment=ERASED),
    )
    await run(
        "requests",
        update(Request)
        .where(Request.customer_id == cid)
        .values(subject=ERASED, description=ERASED, fields={}),
    )
    await run(
        "request_events",
        update(RequestEvent).where(RequestEvent.request_id.in_(request_ids)).values(reason=None),
    )
    await run(
        "emails",
        update(Notification)
        .where(Notification.customer_id == cid)
        .values(recipient=None, subject=None, text=None, html=None),
    )
    filed = select(RequestFile.sha256).where(RequestFile.request_id.in_(request_ids))
    shas = list(await db.scalars(filed))
    await run("files", delete(RequestFile).where(RequestFile.request_id.in_(request_ids)))
    await db.execute(  # the documents themselves, unless another request holds them too
        delete(StoredFileRow).where(
            StoredFileRow.sha256.in_(shas),
            StoredFileRow.sha256.not_in(select(RequestFile.sha256)),
        )
    )
    name = "Анонимизировано" if customer.locale == "ru" else "Anonymised"
    customer.name = f"{name} {cid[:8]}"
    for field in ("inn", "kpp", "ogrn", "inn_kpp_key", "address_name", "contact_person",
                  "gender", "timezone"):  # fmt: skip
        setattr(customer, field, None)
    customer.anonymised_at = now
    return touched
