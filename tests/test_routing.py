"""Routing rules: matching, escalation by line, and load errors with file, line and reason."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from caseflow.payloads import CustomerFacts
from caseflow.platform.settings import ROOT
from caseflow.platform.yamlsource import SourceErrors
from caseflow.requests.lifecycle import Line
from caseflow.routing import rules as routing
from tests.helpers import request_start

BOOK = routing.load(ROOT / "routing_rules")


def customer(**facts: object) -> CustomerFacts:
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
    from caseflow.routing.rulebook import RuleHolder

    write(tmp_path, "00.yaml", DEFAULTS)
    holder = RuleHolder(tmp_path)
    write(tmp_path, "10.yaml", "rules: [{name: x}]\n")
    with pytest.raises(SourceErrors):
        holder.reload()
    assert holder.current.defaults[Line.L1] == "hotline"


def test_person_targets_and_their_fallback_to_later_rules() -> None:
    vip = BOOK.route(request_start(customer=customer(tier="vip", personal_manager="agent2-vip")))
    assert (vip.rule, vip.person, vip.queue, vip.line) == (
        "vip-personal-manager",
        "agent2-vip",
        None,
        Line.L2,
    )
    assert vip.overflow is not None and vip.overflow.queue == "l2-vip"
    client = customer(kind="organization", segment="b2b_budget", account_manager="manager")
    contract = BOOK.route(request_start(customer=client, topic="prolongation"))
    assert (contract.rule, contract.person) == ("contract-questions-to-account-manager", "manager")
    no_manager = BOOK.route(
        request_start(customer=customer(kind="organization"), topic="prolongation")
    )
    assert no_manager.rule == "everyone-else"
    assert {
        "rule": "contract-questions-to-account-manager",
        "file": "10-intake.yaml",
        "why": "wanted account_manager is set, was None",
    } in no_manager.tried


def test_prospects_route_by_segment_volume_and_office() -> None:
    def prospect(**facts: object) -> str:
        base = {"kind": "organization", "status": "prospect", "segment": "b2b_commercial"}
        return BOOK.route(request_start(customer=customer(**{**base, **facts}))).queue or ""

    assert prospect(planned_volume=500) == "acquisition-commercial"
    assert prospect(planned_volume=50) == "acquisition-regions"
    assert prospect(planned_volume=500, region="RU-TVE") == "acquisition-regions"
    assert prospect(segment="b2b_budget") == "acquisition-budget"
    held = BOOK.route(
        request_start(
            customer=customer(kind="organization", status="prospect", segment="b2b_commercial")
        )
    )
    assert held.overflow is not None and held.overflow.hold is not None


def test_decision_lists_the_rules_tried_before_the_winner() -> None:
    route = BOOK.route(request_start(customer=customer(region="RU-SPE")))
    assert route.rule == "north-west-hotline" and route.file == "10-intake.yaml"
    assert [t["rule"] for t in route.tried][:2] == ["vip-personal-manager", "vip-to-second-line"]
    assert route.tried[1]["why"] == "wanted tier=vip, was 'standard'"


def test_continue_lends_skill_and_overflow_to_the_winner(tmp_path) -> None:
    write(tmp_path, "00.yaml", DEFAULTS)
    write(
        tmp_path,
        "10.yaml",
        """rules:
  - name: vip-needs-seniors
    continue: true
    when: {tier: vip}
    target: {line: L1, skill: vip_care, level: 4}
    overflow: {supervisor: region}
  - name: hotline
    target: {line: L1, queue: hotline}
""",
    )
    book = routing.load(tmp_path)
    route = book.route(request_start(customer=customer(tier="vip")))
    assert (route.rule, route.skill, route.level) == ("hotline", "vip_care", 4)
    assert route.overflow is not None and route.overflow.supervisor == "region"
    plain = book.route(request_start(customer=customer()))
    assert (plain.rule, plain.skill, plain.overflow) == ("hotline", None, None)


def test_queues_must_exist_when_the_teams_are_known(tmp_path) -> None:
    write(tmp_path, "00.yaml", DEFAULTS)
    write(
        tmp_path,
        "10.yaml",
        "rules:\n  - name: a\n    target: {line: L2, queue: l2-ghosts}\n"
        "    overflow: {queue: hotline}\n",
    )
    known = {"hotline", "l2-support", "l3-experts"}
    with pytest.raises(SourceErrors) as caught:
        routing.load(tmp_path, known_queues=known)
    assert [(e.file, e.line) for e in caught.value.errors] == [("10.yaml", 3)]
    assert "l2-ghosts" in caught.value.errors[0].reason
    routing.load(tmp_path, known_queues=known | {"l2-ghosts"})


def test_the_shipped_rules_name_only_demo_teams() -> None:
    from cli.demo import TEAMS

    routing.load(ROOT / "routing_rules", known_queues={t[0] for t in TEAMS})


@pytest.mark.parametrize(
    ("overflow", "words"),
    [
        ("{queue: a, hold: PT5M}", "exactly one"),
        ("{hold: PT5S}", "once a minute"),
        ("{supervisor: planet}", "supervisor"),
    ],
)
def test_bad_overflow(tmp_path, overflow, words) -> None:
    write(tmp_path, "00.yaml", DEFAULTS)
    write(
        tmp_path,
        "10.yaml",
        f"rules:\n  - name: a\n    target: {{line: L1}}\n    overflow: {overflow}\n",
    )
    with pytest.raises(SourceErrors, match=words):
        routing.load(tmp_path)


def test_long_rule_books_explain_the_first_failures_and_count_the_rest(tmp_path) -> None:
    write(tmp_path, "00.yaml", DEFAULTS)
    body = "".join(
        f"  - name: r{i}\n    when: {{tier: gold{i}}}\n    target: {{line: L1}}\n"
        for i in range(30)
    )
    write(tmp_path, "10.yaml", "rules:\n" + body)
    route = routing.load(tmp_path).route(request_start(customer=customer()))
    assert route.rule == "default:L1"
    assert len(route.tried) == 26 and route.tried[0]["rule"] == "r0"
    assert route.tried[-1]["why"] == "5 more rules did not match"


def test_nobody_free_on_the_hotline_holds_the_request_for_another_try() -> None:
    """The catch-all rule has an overflow: a request nobody could take is tried again later,
    never left unassigned for good."""
    route = BOOK.route(request_start(customer=customer(region="RU-MOW")))
    assert route.rule == "everyone-else"
    assert route.overflow is not None and route.overflow.hold == timedelta(minutes=10)
