"""Canned answers: checked at start, chosen by topic and language, filled in."""

from __future__ import annotations

from pathlib import Path

import pytest

from caseflow.platform.settings import ROOT
from caseflow.platform.yamlsource import SourceErrors
from caseflow.requests.snippets import load

VALUES = {"customer": "Иван Петрович", "number": "REQ-000007", "subject": "Карта", "agent": "Оля"}


def test_the_shipped_snippets_load_and_fill_in() -> None:
    book = load(ROOT / "routing_rules" / "snippets" / "snippets.yaml")
    ru = book.for_case("consultation", "ru", VALUES)
    assert ru["thanks"].startswith("Спасибо за обращение, Иван Петрович!")
    assert "REQ-000007" in ru["thanks"]
    assert "card-blocked" not in ru  # another topic's
    en = book.for_case("consultation", "en", VALUES)
    assert en["thanks"].startswith("Thank you, Иван Петрович!")  # the customer's language
    assert "card-blocked" in book.for_case("card_block", "ru", VALUES)


def test_a_topics_own_snippet_wins_over_a_general_one(tmp_path: Path) -> None:
    path = tmp_path / "snippets.yaml"
    path.write_text(
        "snippets:\n"
        "  - {name: wait, text: 'general'}\n"
        "  - {name: wait, topics: [card_block], text: 'for cards {number}'}\n"
    )
    book = load(path)
    assert book.for_case("card_block", "ru", VALUES)["wait"] == "for cards REQ-000007"
    assert book.for_case("consultation", "ru", VALUES)["wait"] == "general"


def test_an_unknown_placeholder_is_refused_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "snippets.yaml"
    path.write_text("snippets:\n  - name: hi\n    text: 'Hello {custmer}'\n")
    with pytest.raises(SourceErrors) as refused:
        load(path)
    error = refused.value.errors[0]
    assert error.file == "snippets.yaml" and error.line == 3
    assert "custmer" in error.reason
