"""Customers: profiles, contacts, representatives and hand-written interactions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, validates

from caseflow.customers.identity import search_key
from caseflow.models.base import Base, UtcDateTime, utcnow


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(300))
    inn: Mapped[str | None] = mapped_column(String(12), index=True)
    kpp: Mapped[str | None] = mapped_column(String(9))
    # "inn/kpp" for organisations: the unique key that refuses a second profile of one company.
    inn_kpp_key: Mapped[str | None] = mapped_column(String(24), unique=True)
    ogrn: Mapped[str | None] = mapped_column(String(15), unique=True)
    region: Mapped[str] = mapped_column(String(64))
    segment: Mapped[str] = mapped_column(String(32))
    tier: Mapped[str] = mapped_column(String(16))
    personal_manager: Mapped[str | None] = mapped_column(String(64))
    contract_unit: Mapped[str | None] = mapped_column(String(64))
    # prospect | client: a prospect has no contract yet (acquisition routes it).
    status: Mapped[str] = mapped_column(String(16), default="client")
    planned_volume: Mapped[int | None] = mapped_column(Integer)
    account_manager: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(16))
    gender: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))
    # How e-mails address them: formal|informal, the name to use ("Иван Петрович"), and for
    # a company the contact person (whose gender `gender` is).
    address_form: Mapped[str] = mapped_column(String(16), default="formal")
    address_name: Mapped[str | None] = mapped_column(String(200))
    contact_person: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The source that registered the profile (call_centre, api:<name>, import:<name>…): what
    # it said at creation stands as its facts until a source states anything else.
    source: Mapped[str | None] = mapped_column(String(64))
    # Merged into another profile (the survivor): hidden from lists, intake goes there.
    merged_into: Mapped[str | None] = mapped_column(String(36), index=True)
    # Personal data erased on request (irreversible); the cases' statistics stay.
    anonymised_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The name as searches compare it (identity.search_key): case-insensitive for Cyrillic on
    # SQLite too, where LOWER() knows only ASCII.
    name_folded: Mapped[str | None] = mapped_column(String(300))

    @validates("name")
    def _fold_name(self, _: str, value: str) -> str:
        self.name_folded = search_key(value)
        return value


class CustomerContact(Base):
    """A normalised phone (E.164) or e-mail (lower case); unique across all customers."""

    __tablename__ = "customer_contacts"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Indexed: a profile's contacts are read by it on every customer read and import batch.
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(320))
    # An e-mail address mail came back from (a bounce): not written to until it is changed.
    undeliverable: Mapped[str | None] = mapped_column(Text, default=None)


class Representative(Base):
    """A person who speaks for an organisation, with what they are entitled to."""

    __tablename__ = "representatives"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    # [{topics: [...] (empty: any), disclosure, valid_from, valid_to, document}]
    authorities: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Interaction(Base):
    """A contact with the customer written down by hand: a call, a visit, a letter."""

    __tablename__ = "interactions"
    __table_args__ = (Index(None, "customer_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    channel: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(36))


class CustomerFact(Base):
    """One source's latest statement of one field of a profile (survivorship picks the
    profile's value among them). `origin_id` is the profile it was stated for: a merge
    moves facts to the survivor, an unmerge gives them back."""

    __tablename__ = "customer_facts"
    __table_args__ = (UniqueConstraint("origin_id", "source", "field"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    origin_id: Mapped[str] = mapped_column(String(36))
    source: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(32))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    by: Mapped[str] = mapped_column(String(64))


class CustomerChange(Base):
    """A change of a profile's value: which field, from what to what, by whom, as which
    source, when, and why (a source's statement, a recomputation, a merge)."""

    __tablename__ = "customer_changes"
    __table_args__ = (Index(None, "customer_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(32))
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    source: Mapped[str] = mapped_column(String(64))
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(String(32))


class CustomerMatchKey(Base):
    """A blocking key of a profile (`caseflow.customers.matching.keys`): only profiles that
    share one are compared when looking for likely duplicates. Derived data, rewritten with
    the profile: no foreign key checks each of the five an import writes per customer."""

    __tablename__ = "customer_match_keys"

    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True, index=True)


class CustomerMerge(Base):
    """A merge of duplicate profiles into a survivor: who, when, why, and what moved (ids
    by kind), so that an unmerge moves exactly that back."""

    __tablename__ = "customer_merges"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    survivor_id: Mapped[str] = mapped_column(String(36), index=True)
    duplicate_ids: Mapped[list[str]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))  # running | done | undone
    moved: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    undone_by: Mapped[str | None] = mapped_column(String(64))
    undone_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CustomerConsent(Base):
    """A consent given or withdrawn for a channel and purpose: the newest one is in force."""

    __tablename__ = "customer_consents"
    __table_args__ = (Index(None, "customer_id", "channel", "purpose"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))  # phone | email | sms
    purpose: Mapped[str] = mapped_column(String(16))  # service | marketing
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(64))
    captured_at: Mapped[datetime] = mapped_column(UtcDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    by: Mapped[str] = mapped_column(String(64))


class CustomerProduct(Base):
    """A product the customer holds or held: its type (what offers and segments test), as
    of when and from which source; a fraud flag suppresses every offer."""

    __tablename__ = "customer_products"
    __table_args__ = (Index(None, "type", "customer_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    balance: Mapped[float | None] = mapped_column(Float)
    volume: Mapped[float | None] = mapped_column(Float)
    fraud: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[datetime] = mapped_column(UtcDateTime)


class OfferOutcome(Base):
    """A customer's answer to an offer (accepted, declined, later)."""

    __tablename__ = "offer_outcomes"
    __table_args__ = (Index(None, "customer_id", "offer", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    offer: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class CustomerImport(Base):
    """A bulk import of customers as one source: its counts and its checkpoint (the last
    staged line taken), moved in the same transaction as each batch."""

    __tablename__ = "customer_imports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))  # staged | running | done | failed
    by: Mapped[str] = mapped_column(String(64))
    rows_total: Mapped[int] = mapped_column(Integer)
    rows_done: Mapped[int] = mapped_column(Integer)
    created: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    joined: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CustomerImportRow(Base):
    """A staged row of an import file, as read (COPY on PostgreSQL)."""

    __tablename__ = "customer_import_rows"

    import_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class CustomerImportReject(Base):
    """A row refused: its line in the file, the field and the reason."""

    __tablename__ = "customer_import_rejects"
    __table_args__ = (Index(None, "import_id", "line"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    import_id: Mapped[str] = mapped_column(String(36))
    line: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500))
