"""Rule conditions: a small predicate language over request and customer facts.

    when:                      # every key must hold (AND)
      tier: vip                # equals
      region: {in: [RU-MOW, RU-SPE]}
      planned_volume: {range: {min: 100, max: 5000}}
      personal_manager: {exists: true}
      any:                     # at least one of the listed mappings
        - segment: b2b_commercial
        - not: {status: prospect}

Compiling checks field names and operators, so a typo is a load error with its location,
never a rule that silently matches nothing. Each predicate says why it failed, which is
what a decision's explanation shows for the rules tried before the winner.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

FIELDS = frozenset(
    {
        "channel",
        "region",
        "topic",
        "subtopic",
        "priority",
        "segment",
        "tier",
        "customer_kind",
        "status",
        "planned_volume",
        "contract_unit",
        "office_in_region",
        "personal_manager",
        "account_manager",
        "subject",
        "mailbox",
        "to",
        "has_attachment",
    }
)
OPERATORS = ("eq", "in", "not_in", "range", "exists", "contains", "matches")
Loc = tuple[str | int, ...]
Test = Callable[[Mapping[str, Any]], bool]


class ConditionError(ValueError):
    def __init__(self, loc: Loc, reason: str) -> None:
        super().__init__(reason)
        self.loc = loc
        self.reason = reason


@dataclass(frozen=True)
class Compare:
    field: str
    op: str
    value: Any
    # The predicate as one function, made once: a rule book of a thousand rules is tried in
    # order for every intake and escalation (bench/assignment.py).
    test: Test = dataclass_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "test", _compare_test(self.field, self.op, self.value))

    def holds(self, facts: Mapping[str, Any]) -> bool:
        return self.test(facts)

    def describe(self) -> str:
        match self.op:
            case "eq":
                return f"{self.field}={self.value}"
            case "in":
                return f"{self.field} in {list(self.value)}"
            case "not_in":
                return f"{self.field} not in {list(self.value)}"
            case "exists":
                return f"{self.field} {'is set' if self.value else 'is not set'}"
            case "contains":
                return f"{self.field} contains {self.value!r}"
            case "matches":
                return f"{self.field} matches /{self.value}/"
            case _:
                low, high = self.value
                return (
                    f"{self.field} in range [{low if low is not None else '…'}, "
                    f"{high if high is not None else '…'}]"
                )

    def why_not(self, facts: Mapping[str, Any]) -> str:
        return f"wanted {self.describe()}, was {facts.get(self.field)!r}"


@dataclass(frozen=True)
class All:
    parts: tuple[Predicate, ...]
    test: Test = dataclass_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        tests = tuple(p.test for p in self.parts)

        def every(facts: Mapping[str, Any]) -> bool:
            for test in tests:
                if not test(facts):
                    return False
            return True

        object.__setattr__(self, "test", tests[0] if len(tests) == 1 else every)

    def holds(self, facts: Mapping[str, Any]) -> bool:
        return self.test(facts)

    def describe(self) -> str:
        return " and ".join(p.describe() for p in self.parts) or "always"

    def why_not(self, facts: Mapping[str, Any]) -> str:
        failed = next(p for p in self.parts if not p.holds(facts))
        return failed.why_not(facts)


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Predicate, ...]
    test: Test = dataclass_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        tests = tuple(p.test for p in self.parts)

        def some(facts: Mapping[str, Any]) -> bool:
            for test in tests:
                if test(facts):
                    return True
            return False

        object.__setattr__(self, "test", some)

    def holds(self, facts: Mapping[str, Any]) -> bool:
        return self.test(facts)

    def describe(self) -> str:
        return "(" + " or ".join(p.describe() for p in self.parts) + ")"

    def why_not(self, facts: Mapping[str, Any]) -> str:
        return "none of: " + "; ".join(p.why_not(facts) for p in self.parts)


@dataclass(frozen=True)
class Not:
    part: Predicate
    test: Test = dataclass_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        inner = self.part.test
        object.__setattr__(self, "test", lambda facts: not inner(facts))

    def holds(self, facts: Mapping[str, Any]) -> bool:
        return self.test(facts)

    def describe(self) -> str:
        return f"not ({self.part.describe()})"

    def why_not(self, facts: Mapping[str, Any]) -> str:
        return f"wanted not ({self.part.describe()}), and it held"


Predicate = Compare | All | AnyOf | Not


def _compare_test(name: str, op: str, value: Any) -> Test:
    """One comparison as a function of the facts."""
    match op:
        case "eq":
            return lambda facts: bool(facts.get(name) == value)
        case "in" | "not_in":
            members = _members(value)
            if op == "in":
                return lambda facts: _among(facts.get(name), members, value)
            return lambda facts: not _among(facts.get(name), members, value)
        case "exists":
            return lambda facts: (facts.get(name) is not None) == value
        case "contains":
            folded = value.casefold()
            return lambda facts: (
                isinstance(actual := facts.get(name), str) and (folded in actual.casefold())
            )
        case "matches":
            pattern = re.compile(value, re.I)
            return lambda facts: (
                isinstance(actual := facts.get(name), str) and (pattern.search(actual) is not None)
            )
        case _:  # range
            low, high = value

            def within(facts: Mapping[str, Any]) -> bool:
                actual = facts.get(name)
                if not isinstance(actual, int | float) or isinstance(actual, bool):
                    return False
                return (low is None or actual >= low) and (high is None or actual <= high)

            return within


def _members(values: tuple[Any, ...]) -> frozenset[Any] | None:
    """The listed values as a set to look up in, when they can all be hashed."""
    try:
        return frozenset(values)
    except TypeError:
        return None


def _among(actual: Any, members: frozenset[Any] | None, values: tuple[Any, ...]) -> bool:
    if members is not None:
        try:
            return actual in members
        except TypeError:  # an unhashable fact: compared one by one, as a list would be
            pass
    return actual in values


def compile_when(
    data: Any, loc: Loc = ("when",), known: Collection[str] | None = FIELDS
) -> Predicate:
    """`known`: the fields a condition may name (None: any, as deal fields are free)."""
    if data is None:
        return All(())
    if not isinstance(data, Mapping):
        raise ConditionError(loc, "a condition is a mapping of field: value or operator")
    parts: list[Predicate] = []
    for key, value in data.items():
        here = (*loc, key)
        if key in ("all", "any"):
            if not isinstance(value, Sequence) or isinstance(value, str) or not value:
                raise ConditionError(here, f"'{key}' takes a non-empty list of conditions")
            nested = tuple(compile_when(item, (*here, i), known) for i, item in enumerate(value))
            parts.append(All(nested) if key == "all" else AnyOf(nested))
        elif key == "not":
            parts.append(Not(compile_when(value, here, known)))
        elif known is None or key in known:
            parts.append(_compare(key, value, here))
        else:
            raise ConditionError(here, f"unknown field '{key}'; known: {', '.join(sorted(known))}")
    return parts[0] if len(parts) == 1 else All(tuple(parts))


def _compare(field: str, value: Any, loc: Loc) -> Compare:
    if not isinstance(value, Mapping):
        if isinstance(value, list):
            raise ConditionError(loc, "a list needs an operator: {in: [...]} or {not_in: [...]}")
        return Compare(field, "eq", value)
    if len(value) != 1:
        raise ConditionError(loc, f"give exactly one operator of {', '.join(OPERATORS)}")
    op, operand = next(iter(value.items()))
    here = (*loc, op)
    if op not in OPERATORS:
        raise ConditionError(here, f"unknown operator '{op}'; known: {', '.join(OPERATORS)}")
    if op in ("in", "not_in"):
        if not isinstance(operand, list) or not operand:
            raise ConditionError(here, f"'{op}' takes a non-empty list")
        return Compare(field, op, tuple(operand))
    if op == "exists":
        if not isinstance(operand, bool):
            raise ConditionError(here, "'exists' takes true or false")
        return Compare(field, op, operand)
    if op == "range":
        return Compare(field, op, _range(operand, here))
    if op in ("contains", "matches"):
        if not isinstance(operand, str) or not operand:
            raise ConditionError(here, f"'{op}' takes a non-empty text")
        if op == "matches":
            try:
                re.compile(operand)
            except re.error as exc:
                raise ConditionError(here, f"not a regular expression: {exc}") from None
        return Compare(field, op, operand)
    if isinstance(operand, list | dict):
        raise ConditionError(here, "'eq' takes a single value")
    return Compare(field, op, operand)


def _range(operand: Any, loc: Loc) -> tuple[float | None, float | None]:
    if not isinstance(operand, Mapping) or not operand or set(operand) - {"min", "max"}:
        raise ConditionError(loc, "'range' takes {min: N, max: N} (either may be left out)")
    bounds = (operand.get("min"), operand.get("max"))
    for bound in bounds:
        if bound is not None and (not isinstance(bound, int | float) or isinstance(bound, bool)):
            raise ConditionError(loc, "range bounds are numbers")
    low, high = bounds
    if low is not None and high is not None and low > high:
        raise ConditionError(loc, f"range min {low} is above max {high}")
    return low, high
