"""The rule index: a rule book tries only the rules that can hold for a request, and routes
exactly as trying every rule would — the same rule, the same explanation, the same counts."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from caseflow.requests.lifecycle import Line
from caseflow.routing.conditions import compile_when
from caseflow.routing.rule_index import RuleIndex, gate
from caseflow.routing.rules import Rule, RuleBook, Target

REGIONS = ["RU-MOW", "RU-SPE", "RU-KDA", "RU-NSK"]
TOPICS = ["billing", "cards", "fuel"]
LINES = [Line.L1, Line.L2, Line.L3]
DEFAULTS = {Line.L1: "hotline", Line.L2: "l2", Line.L3: "l3"}

leaf = st.one_of(
    st.builds(lambda v: {"region": v}, st.sampled_from(REGIONS)),
    st.builds(lambda vs: {"region": {"in": vs}}, st.lists(st.sampled_from(REGIONS), min_size=1)),
    st.builds(lambda v: {"topic": v}, st.sampled_from([*TOPICS, None])),
    st.builds(lambda vs: {"topic": {"not_in": vs}}, st.lists(st.sampled_from(TOPICS), min_size=1)),
    st.builds(lambda v: {"tier": v}, st.sampled_from(["standard", "vip"])),
    st.builds(lambda v: {"office_in_region": v}, st.booleans()),
    st.builds(lambda lo: {"planned_volume": {"range": {"min": lo}}}, st.integers(0, 300)),
    st.builds(lambda b: {"personal_manager": {"exists": b}}, st.booleans()),
    st.builds(lambda vs: {"planned_volume": {"in": vs}}, st.lists(st.integers(0, 3), min_size=1)),
)
condition = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.builds(lambda xs: {"all": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda xs: {"any": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda x: {"not": x}, inner),
    ),
    max_leaves=4,
)
rule = st.tuples(
    st.one_of(st.none(), condition),
    st.sampled_from(LINES),
    st.booleans(),  # a personal manager's rule
    st.integers(0, 9),  # 0: continues
)
facts = st.fixed_dictionaries(
    {
        "region": st.sampled_from(REGIONS),
        "topic": st.sampled_from([*TOPICS, None]),
        "tier": st.sampled_from(["standard", "vip"]),
        "office_in_region": st.booleans(),
        "planned_volume": st.one_of(st.none(), st.integers(0, 400)),
        "personal_manager": st.sampled_from([None, "manager-1"]),
    }
)


def book(made: list[tuple[Any, Line, bool, int]], *, indexed: bool) -> RuleBook:
    rules = tuple(
        Rule(
            f"rule-{i}",
            "10-test.yaml",
            compile_when(when),
            Target(line=line, person="customer.personal_manager")
            if personal
            else Target(line=line, queue=f"q{i % 3}"),
            None,
            continues == 0,
        )
        for i, (when, line, personal, continues) in enumerate(made)
    )
    return RuleBook(rules, DEFAULTS, indexed=indexed)


@settings(max_examples=300, deadline=None)
@given(
    made=st.lists(rule, min_size=0, max_size=70),
    facts=facts,
    for_line=st.sampled_from([None, *LINES]),
)
def test_the_index_routes_as_trying_every_rule_does(made, facts, for_line) -> None:
    every = book(made, indexed=False).route_facts(facts, for_line=for_line)
    assert book(made, indexed=True).route_facts(facts, for_line=for_line) == every


def test_a_thousand_region_rules_are_not_each_tried() -> None:
    made = [({"region": {"in": [f"RU-R{i:03d}"]}}, Line.L1, False, 1) for i in range(1000)]
    indexed = book(made, indexed=True)
    assert indexed.index.worth_trying({"region": "RU-R500"}) == [500]
    route = indexed.route_facts({"region": "RU-R500"})
    assert route.rule == "rule-500"
    assert route.tried[-1] == {"rule": "…", "file": "", "why": "475 more rules did not match"}


def test_what_a_condition_requires_is_found_where_it_is_required() -> None:
    assert gate(compile_when({"tier": "vip", "region": {"in": ["A", "B"]}})) == (
        ("tier", frozenset({"vip"})),
    )
    assert gate(compile_when({"any": [{"tier": "vip"}, {"region": "A"}]})) == (
        ("tier", frozenset({"vip"})),
        ("region", frozenset({"A"})),
    )
    assert gate(compile_when({"any": [{"tier": "vip"}, {"not": {"region": "A"}}]})) is None
    assert gate(compile_when({"planned_volume": {"range": {"min": 5}}})) is None
    assert gate(compile_when({"region": {"in": [["A"]]}})) is None  # no hash: always tried
    assert RuleIndex.none(3).worth_trying({}) == [0, 1, 2]
