"""Which rules of a rule book can hold for a request, found without trying every one.

A rule whose condition requires a fact to take one of some values — `region: {in: [...]}`,
`topic: x` among the parts of an `all`, every branch of an `any` naming such a fact — can
only hold when the request's fact is among them; the index maps (fact, value) to those
rules. Rules with no such requirement are always worth trying. The rule book tries, in
order, only the rules worth trying and counts the others as not matching: the same route,
the same explanation, as trying each of a thousand rules (bench/assignment.py).

Pure: no I/O.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from caseflow.routing.conditions import All, AnyOf, Compare, Predicate

# Alternatives: a rule is worth trying if the fact of any (fact, values) is among its values.
Gate = tuple[tuple[str, frozenset[Any]], ...]


def gate(predicate: Predicate) -> Gate | None:
    """What the predicate requires of the facts to hold, or None if nothing simple."""
    match predicate:
        case Compare(field=name, op="eq", value=value):
            return _values(name, (value,))
        case Compare(field=name, op="in", value=values):
            return _values(name, values)
        case All(parts=parts):
            return next((found for p in parts if (found := gate(p)) is not None), None)
        case AnyOf(parts=parts):
            gates = [gate(p) for p in parts]
            if any(g is None for g in gates):
                return None
            return tuple(alternative for g in gates if g is not None for alternative in g)
    return None


def _values(name: str, values: Sequence[Any]) -> Gate | None:
    """A set to look the fact up in — unless a value has no hash, or is not equal to itself
    (NaN): then the rule is simply tried."""
    try:
        members = frozenset(values)
    except TypeError:
        return None
    if any(v != v for v in members):
        return None
    return ((name, members),)


@dataclass(frozen=True)
class RuleIndex:
    always: tuple[int, ...]  # positions of the rules tried whatever the facts
    by_fact: Mapping[str, Mapping[Any, tuple[int, ...]]]

    @classmethod
    def of(cls, predicates: Sequence[Predicate]) -> RuleIndex:
        always: list[int] = []
        by_fact: dict[str, dict[Any, list[int]]] = {}
        for position, predicate in enumerate(predicates):
            found = gate(predicate)
            if found is None:
                always.append(position)
                continue
            for name, values in found:
                for value in values:
                    by_fact.setdefault(name, {}).setdefault(value, []).append(position)
        return cls(
            tuple(always),
            {name: {v: tuple(ps) for v, ps in held.items()} for name, held in by_fact.items()},
        )

    @classmethod
    def none(cls, count: int) -> RuleIndex:
        """An index that lets every rule through: each one is tried."""
        return cls(tuple(range(count)), {})

    def worth_trying(self, facts: Mapping[str, Any], start: int = 0) -> list[int]:
        """Positions, in order from `start`, of the rules that may hold for these facts."""
        found = set(self.always)
        for name, held in self.by_fact.items():
            try:
                found.update(held.get(facts.get(name), ()))
            except TypeError:  # a fact without a hash: every rule gated on it is tried
                found.update(p for positions in held.values() for p in positions)
        ordered = sorted(found)
        return ordered[bisect.bisect_left(ordered, start) :]
