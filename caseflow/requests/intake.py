"""Guided intake: is the caller identified well enough, what may they hear, what is missing.

Pure: the API gives the topic, the proofs the operator recorded, the fields filled in and
the representative's authorities; the answer is what the operator's screen highlights.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field

from caseflow.customers import identity
from caseflow.requests.topics import Disclosure, FieldSpec, Topic, rank


def _date_text(value: Any) -> Any:
    """A date is written as text (2027-12-31), never a number of seconds."""
    if isinstance(value, date) or (isinstance(value, str) and not value.strip().isdigit()):
        return value
    raise ValueError("give a date as YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_date_text)]

LEVELS: tuple[Disclosure, ...] = ("public", "customer_confidential", "commercial_confidential")


class Authority(BaseModel):
    """What a representative may ask about, and until when (from a power of attorney)."""

    topics: list[str] = Field(default_factory=list, description="empty: every topic")
    disclosure: Disclosure = "customer_confidential"
    valid_from: IsoDate | None = None
    valid_to: IsoDate | None = None
    document: str = Field(default="", max_length=200, description="e.g. доверенность № 12")

    def covers(self, topic: str) -> bool:
        return not self.topics or topic in self.topics

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


class FieldProblem(BaseModel):
    field: str
    reason: str


class IntakeCheck(BaseModel):
    identified: bool
    missing_proofs: list[str] = Field(description="the nearest set of proofs still missing")
    disclosure_allowed: Disclosure
    disclosure_needed: Disclosure
    authorised: bool = Field(description="identified and allowed what the topic discloses")
    missing_fields: list[str]
    invalid_fields: list[FieldProblem] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list, description="why not, in words")
    hints: list[str] = Field(default_factory=list)
    resolving_line: str


def field_problem(name: str, spec: FieldSpec, value: Any) -> str | None:
    """Why a filled-in value does not fit its field, or None."""
    try:
        if spec.type == "integer" and not (isinstance(value, int) and not isinstance(value, bool)):
            int(str(value))
        elif spec.type == "number":
            float(str(value))
        elif spec.type == "date":
            date.fromisoformat(str(value))
        elif spec.type == "phone":
            identity.phone(str(value))
        elif spec.type == "email":
            identity.email(str(value))
    except (TypeError, ValueError) as exc:
        return f"not a valid {spec.type}: {exc}" if str(exc) else f"not a valid {spec.type}"
    if spec.pattern and not re.fullmatch(spec.pattern, str(value)):
        return f"does not match {spec.pattern}"
    return None


def check(
    code: str,
    topic: Topic,
    *,
    proofs: set[str],
    fields: dict[str, Any],
    organisation: bool,
    authorities: list[Authority] | None,
    today: date,
) -> IntakeCheck:
    """`authorities` is None when no representative was named (the caller is the customer
    themself, or an unknown person for a company)."""
    reasons: list[str] = []
    gaps = [sorted(set(needed) - proofs) for needed in topic.identification]
    nearest = min(gaps, key=len)
    identified = not nearest
    if not identified:
        reasons.append("not identified: missing " + ", ".join(nearest))
    allowed: Disclosure = "public"
    if identified and not organisation:
        allowed = "commercial_confidential"  # a person hears everything about themself
    elif identified and authorities is None:
        reasons.append("a company's caller must be one of its representatives")
    elif identified and authorities is not None:
        for authority in authorities:
            if not authority.covers(code):
                continue
            if not authority.valid_on(today):
                until = authority.valid_to or authority.valid_from
                reasons.append(
                    f"authority {authority.document or ''} not valid on {today} "
                    f"(valid until {until})".replace("  ", " ")
                )
                continue
            if rank(authority.disclosure) > rank(allowed):
                allowed = authority.disclosure
        if rank(allowed) < rank(topic.disclosure):
            reasons.append(f"the representative has no valid authority for '{code}'")
    authorised = identified and rank(allowed) >= rank(topic.disclosure)
    missing = [
        name
        for name, spec in topic.fields.items()
        if spec.required and fields.get(name) in (None, "")
    ]
    invalid = [
        FieldProblem(field=name, reason=problem)
        for name, value in fields.items()
        if name in topic.fields
        and value not in (None, "")
        and (problem := field_problem(name, topic.fields[name], value))
    ]
    invalid += [
        FieldProblem(field=name, reason=f"topic '{code}' has no such field")
        for name in fields
        if name not in topic.fields
    ]
    return IntakeCheck(
        identified=identified,
        missing_proofs=nearest,
        disclosure_allowed=allowed,
        disclosure_needed=topic.disclosure,
        authorised=authorised,
        missing_fields=missing,
        invalid_fields=invalid,
        reasons=reasons,
        hints=topic.hints,
        resolving_line=topic.resolving_line,
    )


def visible_fields(
    topic: Topic | None, fields: dict[str, Any], allowed: str
) -> tuple[dict[str, Any], list[str]]:
    """The fields a reader limited to `allowed` may see, and the names of those hidden."""
    if topic is None:
        return fields, []
    hidden = [
        name
        for name in fields
        if name in topic.fields and rank(topic.fields[name].disclosure) > rank(allowed)
    ]
    return {k: v for k, v in fields.items() if k not in hidden}, hidden
