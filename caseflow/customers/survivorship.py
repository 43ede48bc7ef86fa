"""Survivorship: which source's value a customer's profile shows, field by field.

Every fact about a customer comes from a source (`call_centre`, `web_form`,
`contract_system`, `import:<name>`, `email`, `deal`, `api:<integration user>`) at a time,
and each source's latest statement of a field is kept. The company's rules
(`routing_rules/profile/survivorship.yaml`) say per field which one wins:

- `source_priority`: the first listed source (patterns such as `import:*`) that holds a
  value; sources the list does not name come after it, the newest first;
- `most_recent`: the newest value;
- `most_complete`: the longest value (the newest among equals);
- `union` (phones, e-mails): every distinct value with the source that gave it first, the
  primary one first (by the listed sources, then the one known longest).

Pure: no I/O. Checked at start like the other rule files (file, line, reason).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from caseflow.platform.yamlsource import (
    Loc,
    SourceError,
    SourceErrors,
    line_of,
    parse,
    validate_data,
)

# The profile's fields that sources state; `kind` and the ownership of a record are not
# facts a channel reports.
FIELDS = (
    "name", "inn", "kpp", "ogrn", "phones", "emails", "region", "segment", "tier",
    "personal_manager", "contract_unit", "status", "planned_volume", "account_manager",
    "locale", "gender", "timezone", "address_form", "address_name", "contact_person",
)  # fmt: skip
LISTS = frozenset({"phones", "emails"})
Strategy = Literal["source_priority", "most_recent", "most_complete", "union"]


class FieldRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: list[str] = Field(min_length=1)
    strategy: Strategy
    sources: list[str] = Field(default_factory=list, description="highest priority first")

    @model_validator(mode="after")
    def _fits(self) -> FieldRule:
        unknown = [f for f in self.fields if f not in FIELDS]
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; a profile has {list(FIELDS)}")
        if self.strategy == "union" and set(self.fields) - LISTS:
            raise ValueError(f"union keeps every value only of {sorted(LISTS)}")
        if self.strategy != "union" and set(self.fields) & LISTS:
            raise ValueError(f"{sorted(LISTS)} keep every value: their strategy is union")
        if self.strategy == "source_priority" and not self.sources:
            raise ValueError("source_priority needs its sources, highest priority first")
        return self


class Survivorship(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[str] = Field(
        min_length=1, description="the sources that may state facts (patterns: import:*)"
    )
    default: Strategy = "most_recent"
    rules: list[FieldRule] = Field(default_factory=list)

    @field_validator("default")
    @classmethod
    def _not_union(cls, default: Strategy) -> Strategy:
        if default == "union":
            raise ValueError("union is only for phones and e-mails, not a default")
        return default

    def problems(self) -> Iterator[tuple[Loc, str]]:
        """What the file says that contradicts itself, where it says it."""
        seen: set[str] = set()
        for i, rule in enumerate(self.rules):
            twice = seen & set(rule.fields)
            if twice:
                yield ("rules", i, "fields"), f"field(s) {sorted(twice)} have two rules"
            seen |= set(rule.fields)
            undeclared = [s for s in rule.sources if not self.declares(s)]
            if undeclared:
                reason = f"source(s) {undeclared} are not among sources {self.sources}"
                yield ("rules", i, "sources"), reason

    def declares(self, source: str) -> bool:
        """A source this file lets state facts (`import:crm` by `import:*`)."""
        return any(fnmatchcase(source, p) or source == p for p in self.sources)

    def rule_for(self, field: str) -> FieldRule:
        for rule in self.rules:
            if field in rule.fields:
                return rule
        return FieldRule(fields=[field], strategy="union" if field in LISTS else self.default)


@dataclass(frozen=True)
class Fact:
    """One source's latest statement of one field."""

    source: str
    value: Any
    at: datetime


@dataclass(frozen=True)
class Outcome:
    """A field of the profile: its value, the facts that gave it, the ones that lost."""

    field: str
    value: Any
    won: list[Fact]
    lost: list[Fact]


def empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def rank(rule: FieldRule, source: str) -> int:
    """A source's place in the rule's list (patterns match), after all of them if unlisted."""
    for place, pattern in enumerate(rule.sources):
        if source == pattern or fnmatchcase(source, pattern):
            return place
    return len(rule.sources)


def decide(rule: FieldRule, field: str, facts: Iterable[Fact]) -> Outcome:
    """The field's value by its rule."""
    stated = [f for f in facts if not empty(f.value)]
    newest_first = sorted(stated, key=lambda f: f.at, reverse=True)
    if rule.strategy == "union":
        return _union(rule, field, newest_first)
    if not newest_first:
        return Outcome(field, None, [], [])
    if rule.strategy == "source_priority":
        order = sorted(newest_first, key=lambda f: rank(rule, f.source))  # stable: newest first
    elif rule.strategy == "most_complete":
        order = sorted(newest_first, key=lambda f: -len(str(f.value)))
    else:
        order = newest_first
    return Outcome(field, order[0].value, [order[0]], order[1:])


def _union(rule: FieldRule, field: str, newest_first: list[Fact]) -> Outcome:
    """By the listed sources, then the longest known first: a new number joins at the end."""
    order = sorted(newest_first, key=lambda f: (rank(rule, f.source), f.at))
    values: list[Any] = []
    givers: list[Fact] = []
    for fact in order:
        for value in fact.value:
            if value not in values:
                values.append(value)
                givers.append(Fact(fact.source, value, fact.at))
    return Outcome(field, values, givers, [])


def profile(rules: Survivorship, facts: dict[str, list[Fact]]) -> dict[str, Outcome]:
    """Every field of the profile from what its sources said."""
    return {field: decide(rules.rule_for(field), field, facts.get(field, [])) for field in FIELDS}


DEFAULT = Survivorship(sources=["*"])


def load(path: Path) -> Survivorship:
    """Read and check the rules; without the file, the newest statement of each field wins."""
    if not path.exists():
        return DEFAULT
    data, lines = parse(path.read_text(encoding="utf-8"), path.name)
    rules = validate_data(Survivorship, data, lines, path.name)
    errors = [SourceError(path.name, line_of(loc, lines), f"{'.'.join(map(str, loc))}: {why}")
              for loc, why in rules.problems()]  # fmt: skip
    if errors:
        raise SourceErrors(errors)
    return rules
