"""The condition language, one row per operator and combinator."""

from __future__ import annotations

from typing import Any

import pytest

from caseflow.routing.conditions import ConditionError, compile_when

FACTS = {
    "tier": "vip",
    "region": "RU-MOW",
    "planned_volume": 250,
    "segment": "b2b_commercial",
    "personal_manager": "agent2-vip",
    "account_manager": None,
    "office_in_region": True,
}


@pytest.mark.parametrize(
    ("when", "holds"),
    [
        ({}, True),
        ({"tier": "vip"}, True),
        ({"tier": "standard"}, False),
        ({"tier": {"eq": "vip"}}, True),
        ({"region": {"in": ["RU-MOW", "RU-SPE"]}}, True),
        ({"region": {"in": ["RU-SPE"]}}, False),
        ({"planned_volume": {"in": [250.0, "250"]}}, True),  # a number equals its float
        ({"planned_volume": {"in": ["250"]}}, False),  # not its text
        ({"account_manager": {"in": [None, "x"]}}, True),  # unset is listable
        ({"office_in_region": {"not_in": [False]}}, True),
        ({"region": {"in": [["RU-MOW"]]}}, False),  # a list among the values: no crash
        ({"region": {"not_in": ["RU-SPE"]}}, True),
        ({"region": {"not_in": ["RU-MOW"]}}, False),
        ({"planned_volume": {"range": {"min": 100, "max": 500}}}, True),
        ({"planned_volume": {"range": {"min": 300}}}, False),
        ({"planned_volume": {"range": {"max": 250}}}, True),
        ({"segment": {"range": {"min": 1}}}, False),  # not a number: no match, no crash
        ({"personal_manager": {"exists": True}}, True),
        ({"account_manager": {"exists": True}}, False),
        ({"account_manager": {"exists": False}}, True),
        ({"office_in_region": True}, True),
        ({"tier": "vip", "region": "RU-SPE"}, False),  # keys are ANDed
        ({"all": [{"tier": "vip"}, {"region": "RU-MOW"}]}, True),
        ({"any": [{"tier": "standard"}, {"region": "RU-MOW"}]}, True),
        ({"any": [{"tier": "standard"}, {"region": "RU-SPE"}]}, False),
        ({"not": {"tier": "standard"}}, True),
        ({"not": {"any": [{"tier": "vip"}, {"region": "RU-SPE"}]}}, False),
    ],
)
def test_each_operator(when: dict[str, Any], holds: bool) -> None:
    assert compile_when(when).holds(FACTS) is holds


def test_a_failed_condition_says_why() -> None:
    predicate = compile_when({"tier": "vip", "planned_volume": {"range": {"min": 1000}}})
    assert predicate.why_not(FACTS) == "wanted planned_volume in range [1000, …], was 250"
    assert (
        compile_when({"any": [{"tier": "x"}, {"region": "y"}]})
        .why_not(FACTS)
        .startswith("none of: wanted tier=x, was 'vip'")
    )


@pytest.mark.parametrize(
    ("when", "loc", "words"),
    [
        ({"colour": "red"}, ("when", "colour"), "unknown field"),
        ({"tier": {"like": "v"}}, ("when", "tier", "like"), "unknown operator"),
        ({"tier": {"eq": "a", "in": ["b"]}}, ("when", "tier"), "exactly one operator"),
        ({"tier": ["vip"]}, ("when", "tier"), "needs an operator"),
        ({"region": {"in": []}}, ("when", "region", "in"), "non-empty list"),
        (
            {"planned_volume": {"range": {"min": 5, "max": 1}}},
            ("when", "planned_volume", "range"),
            "above max",
        ),
        ({"planned_volume": {"range": {"least": 5}}}, ("when", "planned_volume", "range"), "min"),
        ({"personal_manager": {"exists": "yes"}}, ("when", "personal_manager", "exists"), "true"),
        ({"any": []}, ("when", "any"), "non-empty"),
        ({"all": [{"tier": "vip"}, {"nope": 1}]}, ("when", "all", 1, "nope"), "unknown field"),
        ({"not": "vip"}, ("when", "not"), "mapping"),
    ],
)
def test_mistakes_are_named_with_their_place(when, loc, words) -> None:
    with pytest.raises(ConditionError) as caught:
        compile_when(when)
    assert caught.value.loc == loc and words in caught.value.reason


MAIL = {"subject": "Re: Договор поставки №5", "to": "support@caseflow.local", "mailbox": None}


@pytest.mark.parametrize(
    ("when", "holds"),
    [
        ({"subject": {"contains": "ДОГОВОР"}}, True),
        ({"subject": {"contains": "счёт"}}, False),
        ({"subject": {"matches": r"договор.*№\s*\d+"}}, True),
        ({"subject": {"matches": "^договор"}}, False),
        ({"to": {"contains": "support@"}}, True),
        ({"mailbox": {"contains": "support"}}, False),  # nothing to search in
    ],
)
def test_text_operators_ignore_case(when: dict[str, Any], holds: bool) -> None:
    assert compile_when(when).holds(MAIL) is holds


@pytest.mark.parametrize(
    ("when", "words"),
    [
        ({"subject": {"matches": "договор("}}, "not a regular expression"),
        ({"subject": {"contains": ""}}, "non-empty text"),
        ({"subject": {"contains": ["a"]}}, "non-empty text"),
    ],
)
def test_bad_text_operators_are_refused(when: dict[str, Any], words: str) -> None:
    with pytest.raises(ConditionError) as refused:
        compile_when(when)
    assert words in refused.value.reason
