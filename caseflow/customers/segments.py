"""Segments of customers and the offers made to them, as data
(`routing_rules/profile/segments.yaml`, `routing_rules/profile/offers.yaml`).

A segment's condition is a mapping of tests, all of which hold:

- `profile: {field: value | [values]}` — profile fields (segment, tier, region, kind, status);
- `holds: fuel_card` / `not_holds: telematics` — a product held now (not closed);
- `asked_about: {topic: billing, within: P30D}` — a request of that topic lately;
- `complaint: {within: P90D}` — a complaint lately (the `complaint` topic).

Each condition becomes one SQL predicate on customers (`predicate`), so "is this customer
in the segment" and "who is in it" (100,000 customers, paged, counted) are the same query.
An offer names its product, the segment it is for, the reason an operator reads, and what
suppresses it for a customer. Checked at start like the other rule files.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import ColumnElement, and_, exists, select, true

from caseflow.models import Customer, CustomerProduct, Request
from caseflow.platform.yamlsource import SourceError, SourceErrors, line_of, parse, validate_data

PROFILE_FIELDS = frozenset({"segment", "tier", "region", "kind", "status", "locale"})
COMPLAINT_TOPIC = "complaint"


class Lately(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: str | None = None
    within: timedelta


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile: dict[str, str | list[str]] = Field(default_factory=dict)
    holds: str | None = None
    not_holds: str | None = None
    asked_about: Lately | None = None
    complaint: Lately | None = None

    @model_validator(mode="after")
    def _known(self) -> Condition:
        unknown = set(self.profile) - PROFILE_FIELDS
        if unknown:
            raise ValueError(
                f"profile field(s) {sorted(unknown)} cannot be tested; use {sorted(PROFILE_FIELDS)}"
            )
        if self.asked_about is not None and not self.asked_about.topic:
            raise ValueError("asked_about needs its topic")
        return self


class Segment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_]{0,63}$")
    title: str
    when: Condition


class Suppression(BaseModel):
    model_config = ConfigDict(extra="forbid")

    complaint_within: timedelta | None = None
    fraud: bool = True
    needs_marketing_consent: bool = True
    declined_within: timedelta | None = None
    holds_product: bool = True


class Offer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_]{0,63}$")
    title: str
    product: str
    segment: str
    reason: str = Field(description="what the operator reads: why this customer, why now")
    suppress: Suppression = Field(default_factory=Suppression)


class Trigger(BaseModel):
    """A request of `topic` makes the offer a task for the customer's manager (a deal in
    its first stage), once per customer per `period`, if the offer is for them now."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_]{0,63}$")
    topic: str
    offer: str
    period: timedelta = Field(default=timedelta(days=30), gt=timedelta(0))


class Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    segments: list[Segment] = Field(default_factory=list)
    offers: list[Offer] = Field(default_factory=list)
    triggers: list[Trigger] = Field(default_factory=list)

    def offer(self, code: str) -> Offer | None:
        return next((o for o in self.offers if o.code == code), None)

    def segment(self, code: str) -> Segment | None:
        return next((s for s in self.segments if s.code == code), None)


def predicate(condition: Condition, now: datetime) -> ColumnElement[bool]:
    """The customers the condition holds for."""
    tests: list[ColumnElement[bool]] = []
    for field, wanted in condition.profile.items():
        column = getattr(Customer, field)
        tests.append(column.in_(wanted) if isinstance(wanted, list) else column == wanted)
    if condition.holds:
        tests.append(holding(condition.holds))
    if condition.not_holds:
        tests.append(~holding(condition.not_holds))
    if condition.asked_about is not None:
        tests.append(asked(condition.asked_about.topic or "", now - condition.asked_about.within))
    if condition.complaint is not None:
        tests.append(asked(COMPLAINT_TOPIC, now - condition.complaint.within))
    return and_(true(), *tests)


def holding(product: str) -> ColumnElement[bool]:
    return exists(
        select(CustomerProduct.id).where(
            CustomerProduct.customer_id == Customer.id,
            CustomerProduct.type == product,
            CustomerProduct.closed_on.is_(None),
        )
    )


def asked(topic: str, since: datetime) -> ColumnElement[bool]:
    return exists(
        select(Request.id).where(
            Request.customer_id == Customer.id, Request.topic == topic, Request.created_at >= since
        )
    )


def _part(directory: Path, name: str, key: str | None = None) -> tuple[list[Any], dict[Any, int]]:
    """One file's list (`segments:`, `offers:`, `triggers:`) and its lines."""
    path = directory / f"{name}.yaml"
    if not path.exists():
        return [], {}
    parsed, lines = parse(path.read_text(encoding="utf-8"), path.name)
    return list((parsed or {}).get(key or name) or []), lines


def load(directory: Path) -> Catalogue:
    """segments.yaml and offers.yaml of the profile rules; an offer must name a segment that
    exists (file, line, reason)."""
    listed, segment_lines = _part(directory, "segments")
    segments = validate_data(
        Catalogue, {"segments": listed}, segment_lines, "segments.yaml"
    ).segments
    listed, offer_lines = _part(directory, "offers")
    offers = validate_data(Catalogue, {"offers": listed}, offer_lines, "offers.yaml").offers
    listed, _ = _part(directory, "offers", "triggers")
    triggers = validate_data(Catalogue, {"triggers": listed}, offer_lines, "offers.yaml").triggers
    codes = {s.code for s in segments}
    errors = [
        SourceError(
            "offers.yaml",
            line_of(("offers", i, "segment"), offer_lines),
            f"offers.{i}.segment: no segment '{offer.segment}'",
        )
        for i, offer in enumerate(offers)
        if offer.segment not in codes
    ]
    offered = {o.code for o in offers}
    errors += [
        SourceError(
            "offers.yaml",
            line_of(("triggers", i, "offer"), offer_lines),
            f"triggers.{i}.offer: no offer '{trigger.offer}'",
        )
        for i, trigger in enumerate(triggers)
        if trigger.offer not in offered
    ]
    if errors:
        raise SourceErrors(errors)
    return Catalogue(segments=segments, offers=offers, triggers=triggers)
