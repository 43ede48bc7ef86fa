"""Guided intake: the topic dictionary, representatives and their authority, the check the
operator's screen runs while the caller is on the line."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.bounds import RowId
from api.deps import CurrentUser, DbSession, State
from api.problems import Problem, invalid
from api.routes.customers import contacts_of
from caseflow import access
from caseflow.access import Kind, NotVisible
from caseflow.customers import identity
from caseflow.models import Customer, Representative, User
from caseflow.requests.intake import Authority, IntakeCheck, check
from caseflow.requests.topics import Disclosure, FieldSpec, Proof, Subtopic, Topic, TopicBook

router = APIRouter(tags=["intake"])


class TopicOut(BaseModel):
    code: str
    title: dict[str, str]
    description: str
    hints: list[str]
    fields: dict[str, FieldSpec]
    required_fields: list[str]
    default_priority: str
    importance: str
    resolving_line: str
    disclosure: Disclosure
    identification: list[list[Proof]]
    subtopics: dict[str, Subtopic]


@router.get("/topics", response_model=list[TopicOut], operation_id="list_topics")
async def topics(state: State, user: CurrentUser) -> list[TopicOut]:
    """The topic dictionary, for intake screens and clients."""
    return [
        TopicOut(
            code=code,
            required_fields=[n for n, f in topic.fields.items() if f.required],
            **topic.model_dump(),
        )
        for code, topic in state.topics.topics.items()
    ]


class ProofIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Proof
    value: str | None = Field(default=None, description="checked where it can be (phone, e-mail)")


def _proof(value: Any) -> Any:
    return {"kind": value} if isinstance(value, str) else value


class IntakeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: str
    contact_id: RowId | None = Field(default=None, description="the representative calling")
    topic: str
    proofs: list[ProofIn] = Field(default_factory=list, max_length=20)
    fields: dict[str, Any] = Field(default_factory=dict)

    @field_validator("proofs", mode="before")
    @classmethod
    def _kinds(cls, value: Any) -> Any:
        return [_proof(v) for v in value] if isinstance(value, list) else value


def topic_of(book: TopicBook, code: str, field: str = "topic") -> Topic:
    topic = book.topics.get(code)
    if topic is None:
        raise invalid(field, f"unknown topic '{code}' (see GET /api/v1/topics)")
    return topic


async def verified_proofs(
    db: AsyncSession, customer: Customer, person: Representative | None, proofs: list[ProofIn]
) -> tuple[set[str], list[str]]:
    """The proofs that count, and why the others do not (a phone that is not on file)."""
    if not any(proof.value for proof in proofs):
        return {proof.kind for proof in proofs}, []
    on_file = (await contacts_of(db, [customer.id]))[customer.id]
    contacts: set[tuple[str, str | None]] = {
        (kind, value) for kind, values in on_file.items() for value in values
    }
    if person is not None:
        contacts |= {("phone", person.phone), ("email", person.email)}
    counted: set[str] = set()
    refused: list[str] = []
    for proof in proofs:
        if proof.value and proof.kind in ("phone_on_file", "email_on_file"):
            kind = "phone" if proof.kind == "phone_on_file" else "email"
            try:
                normal = getattr(identity, kind)(proof.value)
            except ValueError:
                normal = None
            if (kind, normal) not in contacts:
                refused.append(f"{proof.kind}: {proof.value} is not on file")
                continue
        counted.add(proof.kind)
    return counted, refused


async def evaluate(
    db: AsyncSession,
    user: User,
    book: TopicBook,
    body: IntakeIn,
    field_prefix: str = "",
    customer: Customer | None = None,
) -> tuple[IntakeCheck, Customer]:
    """`customer`: already loaded by the caller (registration), else looked up here."""
    topic = topic_of(book, body.topic, f"{field_prefix}topic")
    if customer is None:  # named in the body: one the caller may not see is "no such" one
        try:
            customer = await access.customer(db, user, body.customer_id)
        except NotVisible:
            raise invalid(f"{field_prefix}customer_id", "no such customer") from None
    person = None
    if body.contact_id is not None:
        person = await db.get(Representative, body.contact_id)
        if person is None or person.customer_id != customer.id:
            raise invalid(f"{field_prefix}contact_id", "not a representative of this customer")
    counted, refused = await verified_proofs(db, customer, person, body.proofs)
    result = check(
        body.topic,
        topic,
        proofs=counted,
        fields=body.fields,
        organisation=customer.kind == "organization",
        authorities=[Authority.model_validate(a) for a in person.authorities] if person else None,
        today=datetime.now(UTC).date(),
    )
    result.reasons = refused + result.reasons
    return result, customer


@router.post("/intake/check", response_model=IntakeCheck, operation_id="intake_check")
async def intake_check(
    body: IntakeIn, db: DbSession, user: CurrentUser, state: State
) -> IntakeCheck:
    """Identified? Which proofs are missing? What may this caller hear? What is still empty?"""
    result, _ = await evaluate(db, user, state.topics, body)
    return result


class RepresentativeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    position: str | None = Field(default=None, max_length=200)
    phone: str | None = None
    email: str | None = None
    authorities: list[Authority] = Field(default_factory=list, max_length=50)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value is None else identity.phone(value)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else identity.email(value)


class RepresentativeOut(RepresentativeIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: str


@router.post(
    "/customers/{customer_id}/representatives",
    status_code=201,
    response_model=RepresentativeOut,
    operation_id="add_representative",
)
async def add_representative(
    customer_id: str, body: RepresentativeIn, db: DbSession, user: CurrentUser, state: State
) -> RepresentativeOut:
    """A person who may speak for a company, with their authorities (from a document)."""
    customer = await access.customer(db, user, customer_id)
    if customer.kind != "organization":
        raise invalid("customer_id", "only organisations have representatives")
    for i, authority in enumerate(body.authorities):
        for code in authority.topics:
            topic_of(state.topics, code, f"authorities.{i}.topics")
        if (
            authority.valid_from
            and authority.valid_to
            and authority.valid_to < authority.valid_from
        ):
            raise invalid(f"authorities.{i}.valid_to", "ends before it starts")
    person = Representative(
        customer_id=customer.id,
        name=body.name,
        position=body.position,
        phone=body.phone,
        email=body.email,
        authorities=[a.model_dump(mode="json") for a in body.authorities],
    )
    db.add(person)
    await db.commit()
    return RepresentativeOut.model_validate(person)


@router.get(
    "/customers/{customer_id}/representatives",
    response_model=list[RepresentativeOut],
    operation_id="list_representatives",
)
async def representatives(
    customer_id: str, db: DbSession, user: CurrentUser
) -> list[RepresentativeOut]:
    await access.customer(db, user, customer_id)
    rows = await db.scalars(
        select(Representative)
        .where(Representative.customer_id == customer_id, access.where(Kind.REPRESENTATIVE, user))
        .order_by(Representative.id)
    )
    return [RepresentativeOut.model_validate(r) for r in rows]


def fields_problem(result: IntakeCheck) -> Problem:
    """422 naming every field the topic needs that is empty or wrong."""
    errors = [
        {"field": f"fields.{name}", "reason": "required for this topic"}
        for name in result.missing_fields
    ] + [{"field": f"fields.{p.field}", "reason": p.reason} for p in result.invalid_fields]
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
    return Problem(422, "validation_error", detail, errors=errors)
