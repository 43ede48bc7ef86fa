"""Routing rules as data: which line and queue a request goes to, and why.

Files `routing_rules/*.yaml` are read in name order; their rules form one ordered list,
first match wins. Every line has a default queue, used when no rule targets it (an
escalation to L2 with no L2 rule, say). Unknown fields or operators are load errors,
never silent non-matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from caseflow.lifecycle import Line
from caseflow.payloads import RequestStart
from caseflow.yamlsource import SourceError, SourceErrors, read

FieldName = Literal[
    "channel",
    "region",
    "topic",
    "subtopic",
    "priority",
    "segment",
    "tier",
    "customer_kind",
    "contract_unit",
]
Scalar = str | int | float | bool


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    eq: Scalar | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in")
    not_in: list[Scalar] | None = None
    exists: bool | None = None

    @model_validator(mode="after")
    def _one_operator(self) -> Condition:
        given = [k for k in ("eq", "in_", "not_in", "exists") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a condition takes exactly one of eq, in, not_in, exists")
        return self

    def holds(self, value: Any) -> bool:
        if self.exists is not None:
            return (value is not None) == self.exists
        if self.eq is not None:
            return bool(value == self.eq)
        if self.in_ is not None:
            return value in self.in_
        assert self.not_in is not None
        return value not in self.not_in

    def describe(self, field: str) -> str:
        if self.exists is not None:
            return f"{field} {'is set' if self.exists else 'is not set'}"
        if self.eq is not None:
            return f"{field}={self.eq}"
        if self.in_ is not None:
            return f"{field} in {self.in_}"
        return f"{field} not in {self.not_in}"


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line: Line
    queue: str | None = None


class RoutingRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    when: dict[FieldName, Condition | Scalar] = Field(default_factory=dict)
    target: Target

    def conditions(self) -> dict[str, Condition]:
        return {
            field: cond if isinstance(cond, Condition) else Condition(eq=cond)
            for field, cond in self.when.items()
        }


class RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    defaults: dict[Line, str] = Field(default_factory=dict)
    rules: list[RoutingRule] = Field(default_factory=list)


@dataclass(frozen=True)
class Route:
    line: Line
    queue: str
    rule: str
    reason: str


@dataclass(frozen=True)
class RuleBook:
    rules: tuple[RoutingRule, ...]
    defaults: dict[Line, str]

    def route(self, request: RequestStart, *, for_line: Line | None = None) -> Route:
        """Intake (for_line None) considers every rule; an escalation only rules for that line."""
        facts = facts_of(request)
        for rule in self.rules:
            if for_line is not None and rule.target.line != for_line:
                continue
            conditions = rule.conditions()
            if all(cond.holds(facts.get(field)) for field, cond in conditions.items()):
                line = rule.target.line
                queue = rule.target.queue or self.defaults[line]
                matched = ", ".join(c.describe(f) for f, c in conditions.items()) or "always"
                return Route(line, queue, rule.name, f"rule '{rule.name}' matched ({matched})")
        line = for_line or Line.L1
        return Route(
            line,
            self.defaults[line],
            f"default:{line}",
            f"no rule matched; default queue of {line}",
        )


def facts_of(request: RequestStart) -> dict[str, Any]:
    customer = request.customer
    return {
        "channel": request.channel,
        "region": customer.region,
        "topic": request.topic,
        "subtopic": request.subtopic,
        "priority": request.priority,
        "segment": customer.segment,
        "tier": customer.tier,
        "customer_kind": customer.kind,
        "contract_unit": customer.contract_unit,
    }


REQUIRED_DEFAULTS = (Line.L1, Line.L2, Line.L3)


def load(directory: Path) -> RuleBook:
    """Read and check every rules file; all problems are reported together."""
    errors: list[SourceError] = []
    rules: list[RoutingRule] = []
    defaults: dict[Line, str] = {}
    names: dict[str, str] = {}
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise SourceErrors([SourceError(str(directory), 0, "no routing rules (*.yaml) found")])
    for path in files:
        try:
            parsed = read(RulesFile, path)
        except SourceErrors as exc:
            errors.extend(exc.errors)
            continue
        for line, queue in parsed.defaults.items():
            if line in defaults and defaults[line] != queue:
                errors.append(SourceError(path.name, 1, f"defaults.{line} set twice"))
            defaults[line] = queue
        for rule in parsed.rules:
            if rule.name in names:
                errors.append(
                    SourceError(
                        path.name, 1, f"rule name '{rule.name}' already used in {names[rule.name]}"
                    )
                )
            names[rule.name] = path.name
            rules.append(rule)
    missing = [line for line in REQUIRED_DEFAULTS if line not in defaults]
    if missing and not errors:
        errors.append(
            SourceError(files[0].name, 1, f"defaults: no default queue for {', '.join(missing)}")
        )
    if errors:
        raise SourceErrors(errors)
    return RuleBook(tuple(rules), defaults)
