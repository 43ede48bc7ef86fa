"""Customer identifiers are normalised so that one customer has one profile."""

from __future__ import annotations

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
