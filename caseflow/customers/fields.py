"""A customer's fields as a new profile (and an imported row) must give them: normalised
identifiers (checksummed INN and OGRN, KPP in its form, E.164 phones, lower-case e-mails)
and the rules across fields. The API's `CustomerIn` is this model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from caseflow.customers import identity
from caseflow.sla.calendar import IanaZone

MAX_INT = 2**31 - 1
Count = Annotated[int, Field(ge=0, le=MAX_INT)]


class CustomerFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["person", "organization"]
    name: str = Field(min_length=1, max_length=300)
    inn: str | None = None
    kpp: str | None = None
    ogrn: str | None = None
    phones: list[str] = Field(default_factory=list, max_length=20)
    emails: list[str] = Field(default_factory=list, max_length=20)
    region: str = Field(min_length=2, max_length=64)
    segment: str = Field(min_length=1, max_length=32)
    tier: Literal["standard", "vip"] = "standard"
    personal_manager: str | None = None
    contract_unit: str | None = None
    status: Literal["prospect", "client"] = "client"
    planned_volume: Count | None = None
    account_manager: str | None = None
    locale: str = Field(default="ru", min_length=2, max_length=16)
    gender: Literal["male", "female"] | None = Field(
        default=None, description="of the person, or of a company's contact person"
    )
    timezone: IanaZone | None = None
    address_form: Literal["formal", "informal"] = "formal"
    address_name: str | None = Field(
        default=None, max_length=200, description="how e-mails address them: «Иван Петрович»"
    )
    contact_person: str | None = Field(
        default=None, max_length=200, description="whom a company's e-mails address"
    )

    @field_validator("inn")
    @classmethod
    def _inn(cls, v: str | None) -> str | None:
        return None if v is None else _normalise(identity.inn, v)

    @field_validator("kpp")
    @classmethod
    def _kpp(cls, v: str | None) -> str | None:
        return None if v is None else _normalise(identity.kpp, v)

    @field_validator("ogrn")
    @classmethod
    def _ogrn(cls, v: str | None) -> str | None:
        return None if v is None else _normalise(identity.ogrn, v)

    @field_validator("phones")
    @classmethod
    def _phones(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(_normalise(identity.phone, p) for p in v))

    @field_validator("emails")
    @classmethod
    def _emails(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(_normalise(identity.email, e) for e in v))


def _normalise(check: Callable[[str], str], value: str) -> str:
    try:
        return check(value)
    except identity.InvalidIdentifier as exc:
        raise ValueError(str(exc)) from exc


def inconsistency(body: CustomerFields) -> tuple[str, str] | None:
    """(field, reason) of the first rule across fields the customer breaks, or None."""
    if body.kpp and not body.inn:
        return "inn", "a KPP is given, so the INN is required"
    if body.inn and body.kind == "organization" and len(body.inn) != 10:
        return "inn", "an organisation's INN has 10 digits"
    if body.inn and body.kind == "person" and len(body.inn) != 12:
        return "inn", "a person's INN has 12 digits"
    if body.ogrn and body.kind == "organization" and len(body.ogrn) != 13:
        return "ogrn", "an organisation's OGRN has 13 digits (OGRNIP has 15)"
    if body.kind == "organization" and body.inn and not body.kpp:
        return "kpp", "an organisation with an INN needs its KPP"
    return None


def checked(data: dict[str, object]) -> CustomerFields:
    """The fields checked as a new customer's (ValueError "field: reason" for a rule)."""
    fields = CustomerFields.model_validate(data)
    broken = inconsistency(fields)
    if broken is not None:
        raise ValueError(f"{broken[0]}: {broken[1]}")
    return fields
