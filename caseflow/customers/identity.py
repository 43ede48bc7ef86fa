"""Normalising customer identifiers so one company or person has exactly one profile.

Phones become E.164 (Russian numbers written as 8 495 … or +7 (495) … are the same),
e-mails lower case, INN and OGRN must pass their checksums, KPP must have its form.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
import uuid6
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.ru import inn as stdnum_inn
from stdnum.ru import ogrn as stdnum_ogrn

DEFAULT_PHONE_REGION = "RU"
KPP_FORM = re.compile(r"^[0-9]{4}[0-9A-Z]{2}[0-9]{3}$")
EMAIL_FORM = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def new_id() -> str:
    """A new profile's id: a UUID v7, time-ordered, so a new customer and its contacts,
    keys and facts land at the end of the indexes keyed by it instead of on random pages
    (an import of a million customers keeps those indexes' hot pages in memory)."""
    return str(uuid6.uuid7())


class InvalidIdentifier(ValueError):
    """A value that cannot be an identifier of its kind; the message says why."""


def _plain(value: str) -> str:
    """Full-width and other compatibility forms as plain ASCII digits and letters, so
    `７７３６０１００１` is the KPP 773601001 and not a second company."""
    return unicodedata.normalize("NFKC", value)


def search_key(text: str) -> str:
    """Text as searches compare it, the same on every database: Unicode case folded, compatibility
    forms plain, ё as е (`Сценарий`, `СЦЕНАРИЙ` and `сценарий` are one word)."""
    return _plain(text).casefold().replace("ё", "е")


# How most Russian numbers are written: +7 or 8, then the ten digits of the national number
# (the first never 0-2), separated by spaces, dashes or brackets, nothing else.
RUSSIAN = re.compile(r"^\s*(?:\+\s*7|8)[\s()-]*([3-9](?:[\s()-]*\d){9})\s*$")
SEPARATORS = re.compile(r"[\s()-]")


def phone(value: str, region: str = DEFAULT_PHONE_REGION) -> str:
    written = RUSSIAN.match(value) if region == "RU" and value.isascii() else None
    if written is not None:
        # The number libphonenumber would parse from this shape, built directly (parsing is
        # most of an import's time): the same validity check, the same E.164.
        digits = SEPARATORS.sub("", written.group(1))
        parsed = phonenumbers.PhoneNumber(country_code=7, national_number=int(digits))
        # Valid for Russia is valid (what is_valid_number finds first for +7, at twice the
        # cost); otherwise the whole check, which also knows Kazakhstan's +7 numbers.
        if not (
            phonenumbers.is_valid_number_for_region(parsed, "RU")
            or phonenumbers.is_valid_number(parsed)
        ):
            raise InvalidIdentifier("not a valid phone number")
        return f"+7{digits}"
    try:
        parsed = phonenumbers.parse(_plain(value), region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentifier(f"not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidIdentifier("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def email(value: str) -> str:
    cleaned = _plain(value).strip().lower()
    if not EMAIL_FORM.match(cleaned):
        raise InvalidIdentifier("not an e-mail address")
    return cleaned


def inn(value: str) -> str:
    try:
        return str(stdnum_inn.validate(_plain(value)))
    except StdnumError as exc:
        raise InvalidIdentifier(f"not a valid INN: {exc}") from exc


def ogrn(value: str) -> str:
    try:
        return str(stdnum_ogrn.validate(_plain(value)))
    except StdnumError as exc:
        raise InvalidIdentifier(f"not a valid OGRN: {exc}") from exc


def kpp(value: str) -> str:
    cleaned = re.sub(r"\s", "", _plain(value)).upper()
    if not KPP_FORM.match(cleaned):
        raise InvalidIdentifier("a KPP has 9 characters: 4 digits, 2 digits or letters, 3 digits")
    return cleaned
