"""Who an e-mail goes to and what its templates know of them, read from the read model:
the customer (or the representative who raised the request), a member of staff, the
request with its due times."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.mail.context import Addressee, AddressForm, RequestFacts, salutation
from caseflow.models import Customer, CustomerContact, Representative, Request, SlaClock, User
from caseflow.requests.topics import TopicBook

DEFAULT_ZONE = "Europe/Moscow"

# The statements of every e-mail, built once (their values travel as parameters): building
# and keying them anew for each message cost more than the database's work.
_EMAIL_OF = (
    select(CustomerContact.value)
    .where(
        CustomerContact.customer_id == Customer.id,
        CustomerContact.kind == "email",
        CustomerContact.undeliverable.is_(None),
    )
    .order_by(CustomerContact.id)
    .limit(1)
    .scalar_subquery()
)
# With the representative who raised the request, if it names one of this customer's.
CUSTOMER_AND_EMAIL = (
    select(Customer, _EMAIL_OF, Representative)
    .outerjoin(
        Representative,
        (Representative.customer_id == Customer.id)
        & (
            Representative.id
            == select(Request.contact_id)
            .where(Request.id == bindparam("request_id", type_=String))
            .scalar_subquery()
        ),
    )
    .where(Customer.id == bindparam("customer_id"))
)
STAFF = select(User).where(User.username == bindparam("username"))


def _due_of(kind: str) -> Any:
    return (
        select(SlaClock.due_at)
        .where(
            SlaClock.request_id == Request.id,
            SlaClock.kind == kind,
            SlaClock.stopped_at.is_(None),
        )
        .order_by(SlaClock.segment.desc())
        .limit(1)
        .scalar_subquery()
    )


_ASSIGNEE_NAME = (
    select(User.full_name)
    .where(User.username == func.coalesce(bindparam("assignee", type_=String), Request.assignee))
    .scalar_subquery()
)
REQUEST_FACTS = select(
    Request, _ASSIGNEE_NAME, _due_of("first_response"), _due_of("resolution")
).where(Request.id == bindparam("request_id"))


@dataclass(frozen=True)
class Recipient:
    email: str
    locale: str
    values: dict[str, Any]  # what every template of this e-mail is given about them
    customer_id: str | None = None


async def customer(
    session: AsyncSession,
    customer_id: str,
    request_id: str | None,
    locale_of: Callable[[str | None], str],
) -> Recipient | None:
    """The customer, written to at the address of the person who raised the request when
    they have one, else at the customer's first e-mail that mail has not come back from;
    None without an address."""
    found = (
        await session.execute(
            CUSTOMER_AND_EMAIL, {"customer_id": customer_id, "request_id": request_id}
        )
    ).first()
    row, email, person = found if found is not None else (None, None, None)
    if person is not None and person.email:
        email = person.email
    if row is None or email is None:
        return None
    locale = locale_of(row.locale)
    values = {
        "customer": addressee(row, email, locale, person).model_dump(),
        "timezone": row.timezone or DEFAULT_ZONE,
    }
    return Recipient(email=email, locale=locale, values=values, customer_id=row.id)


async def staff(session: AsyncSession, username: str, locale: str) -> Recipient | None:
    user = await session.scalar(STAFF, {"username": username})
    if user is None or not user.email:
        return None
    values = {
        "recipient": {
            "name": user.full_name,
            "salutation": salutation(locale, name=user.full_name, form="informal"),
        },
        "timezone": DEFAULT_ZONE,
    }
    return Recipient(email=user.email, locale=locale, values=values)


def addressee(
    customer: Customer, email: str, locale: str, person: Representative | None = None
) -> Addressee:
    company = customer.kind == "organization"
    form: AddressForm = "informal" if customer.address_form == "informal" else "formal"
    if person is not None and person.email:
        # Written to the person who called, by their name; gender unknown: neutral.
        return Addressee(
            name=person.name,
            salutation=salutation(locale, name=person.name, form=form),
            organisation=customer.name if company else None,
            email=email,
        )
    name = customer.address_name or (customer.contact_person if company else customer.name)
    return Addressee(
        name=name or customer.name,
        salutation=salutation(locale, name=name, form=form, gender=customer.gender),
        organisation=customer.name if company else None,
        email=email,
    )


async def request_facts(
    session: AsyncSession,
    request_id: str,
    assignee: str | None,
    topics: TopicBook,
    locale: str,
) -> RequestFacts | None:
    """The request as an e-mail names it: number, topic, who holds it, each due time."""
    found = (
        await session.execute(REQUEST_FACTS, {"request_id": request_id, "assignee": assignee})
    ).first()
    if found is None:
        return None
    request, name, response_due, resolution_due = found
    return RequestFacts(
        id=request.id,
        number=request.number,
        subject=request.subject,
        topic=request.topic,
        topic_title=topics.title(request.topic, locale),
        state=request.state,
        registered_at=request.created_at,
        assignee_name=name,
        response_due=response_due,
        resolution_due=resolution_due,
    )
