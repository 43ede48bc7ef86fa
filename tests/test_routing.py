"""Routing rules: matching, escalation by line, and load errors with file, line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from caseflow import routing
from caseflow.lifecycle import Line
from caseflow.payloads import CustomerFacts
from caseflow.settings import ROOT
from caseflow.yamlsource import SourceErrors
from tests.helpers import request_start

BOOK = routing.load(ROOT / "routing_rules")


def customer(**facts: str) -> CustomerFacts:
    base = {
        "id": "c",
        "name": "n",
        "kind": "person",
        "region": "RU-MOW",
        "segment": "b2c",
        "tier": "standard",
    }
    return CustomerFacts(**{**base, **facts})


def test_first_match_wins_and_explains_itself() -> None:
    vip = BOOK.route(request_start(customer=customer(tier="vip", region="RU-SPE")))
    assert (vip.line, vip.queue, vip.rule) == (Line.L2, "l2-vip", "vip-to-second-line")
    assert "tier=vip" in vip.reason
    nw = BOOK.route(request_start(customer=customer(region="RU-LEN")))
    assert (nw.line, nw.queue, nw.rule) == (Line.L1, "hotline-nw", "north-west-hotline")
    card = BOOK.route(request_start(customer=customer(), topic="card_block"))
    assert (card.line, card.queue) == (Line.L2, "l2-support")  # the line's default queue


def test_escalation_considers_only_rules_for_that_line() -> None:
    b2b = request_start(customer=customer(segment="b2b_budget", kind="organization"))
    assert BOOK.route(b2b).queue == "hotline"
    on_l2 = BOOK.route(b2b, for_line=Line.L2)
    assert (on_l2.queue, on_l2.rule) == ("l2-b2b", "b2b-escalations")
    on_l3 = BOOK.route(b2b, for_line=Line.L3)
    assert (on_l3.queue, on_l3.rule) == ("l3-experts", "default:L3")


def write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / name).write_text(text)
    return tmp_path


DEFAULTS = "defaults: {L1: hotline, L2: l2-support, L3: l3-experts}\n"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            "rules:\n  - name: a\n    when:\n      colour: red\n    target: {line: L1}\n",
            4,
            "colour",
        ),
        (
            "rules:\n  - name: a\n    when:\n      tier: {like: vip}\n    target: {line: L1}\n",
            4,
            "like",
        ),
        ("rules:\n  - name: a\n    target: {line: L9}\n", 3, "line"),
        ("rules:\n  - name: a\n    target: {line: L1}\n  - name: b\n", 4, "target"),
        ("rules:\n  - name: a\n    target: {line: L1\n", 4, "YAML"),
    ],
)
def test_bad_rules_name_file_line_and_reason(tmp_path, text, line, words) -> None:
    write(tmp_path, "00-defaults.yaml", DEFAULTS)
    write(tmp_path, "10-bad.yaml", text)
    with pytest.raises(SourceErrors) as caught:
        routing.load(tmp_path)
    error = caught.value.errors[0]
    assert (error.file, error.line) == ("10-bad.yaml", line), str(caught.value)
    assert words in error.reason


def test_missing_defaults_and_duplicate_names_are_errors(tmp_path) -> None:
    write(
        tmp_path,
        "10.yaml",
        "defaults: {L1: hotline}\nrules:\n  - {name: a, target: {line: L1}}\n"
        "  - {name: a, target: {line: L1}}\n",
    )
    with pytest.raises(SourceErrors) as caught:
        routing.load(tmp_path)
    assert "used twice" in str(caught.value)
    write(tmp_path, "10.yaml", "defaults: {L1: hotline}\n")
    with pytest.raises(SourceErrors, match="no default queue for L2, L3"):
        routing.load(tmp_path)


def test_reload_keeps_the_old_book_when_the_new_one_is_bad(tmp_path) -> None:
    from caseflow.rulebook import RuleHolder

    write(tmp_path, "00.yaml", DEFAULTS)
    holder = RuleHolder(tmp_path)
    write(tmp_path, "10.yaml", "rules: [{name: x}]\n")
    with pytest.raises(SourceErrors):
        holder.reload()
    assert holder.current.defaults[Line.L1] == "hotline"
