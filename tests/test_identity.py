"""Customer identifiers are normalised so that one customer has one profile."""

from __future__ import annotations

import random
import uuid

import phonenumbers
import pytest

from caseflow.customers import identity


@pytest.mark.parametrize(
    "raw",
    ["+7 (495) 123-45-67", "8 495 123 45 67", "84951234567", "+74951234567", "7 495 123-4567"],
)
def test_russian_phone_spellings_are_one_number(raw: str) -> None:
    assert identity.phone(raw) == "+74951234567"


@pytest.mark.parametrize("raw", ["12", "not a phone", "+7 495 12"])
def test_impossible_phones_are_refused(raw: str) -> None:
    with pytest.raises(identity.InvalidIdentifier):
        identity.phone(raw)


def test_emails_are_case_insensitive() -> None:
    assert identity.email("  Info@Romashka.RU ") == "info@romashka.ru"
    with pytest.raises(identity.InvalidIdentifier):
        identity.email("info@")


def test_inn_and_ogrn_checksums() -> None:
    assert identity.inn("7707083893") == "7707083893"
    assert identity.inn("500100732259") == "500100732259"  # a person's 12-digit INN
    assert identity.ogrn("1027700132195") == "1027700132195"
    for bad in ("7707083890", "77070838", "abcdefghij"):
        with pytest.raises(identity.InvalidIdentifier, match="INN"):
            identity.inn(bad)
    with pytest.raises(identity.InvalidIdentifier, match="OGRN"):
        identity.ogrn("1027700132190")


def test_kpp_form() -> None:
    assert identity.kpp("7736 01 001") == "773601001"
    assert identity.kpp("7736ab001") == "7736AB001"
    with pytest.raises(identity.InvalidIdentifier):
        identity.kpp("77360100")


def test_the_quick_reading_of_russian_numbers_agrees_with_libphonenumber() -> None:
    """Most numbers are read without libphonenumber's parser (an import's main cost): for
    every shape people write, the answer — E.164 or "not valid" — is the parser's."""

    def parsed(value: str) -> str:
        try:
            number = phonenumbers.parse(value, "RU")
        except phonenumbers.NumberParseException:
            return "invalid"
        if not phonenumbers.is_valid_number(number):
            return "invalid"
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def read(value: str) -> str:
        try:
            return identity.phone(value)
        except identity.InvalidIdentifier:
            return "invalid"

    chosen = random.Random(7)
    for i in range(5_000):
        d = f"{chosen.randrange(10**10):010d}" if i % 2 else f"9{chosen.randrange(10**9):09d}"
        for written in (
            f"+7{d}", f"8{d}", f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}", f"+ 7 {d[:3]} {d[3:]}",
            f" 8-{d[:3]}-{d[3:]} ", f"7{d}", f"8 {d} доб. 5", f"+7({d[:3]}){d[3:]}(", f"8{d}0",
        ):  # fmt: skip
            assert read(written) == parsed(written), written


def test_new_profile_ids_follow_the_order_they_were_made_in() -> None:
    """Time-ordered ids: a new customer's row, contacts and keys go to the end of the
    indexes keyed by its id (an import of a million rows does not scatter them)."""
    made = [identity.new_id() for _ in range(2000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    assert all(uuid.UUID(m).version == 7 for m in made)
