"""Routing rules as data: which line, queue or person a request goes to, and why.

Files `routing_rules/*.yaml` are read in name order into one ordered list; the first
matching rule wins, except that a rule with `continue: true` only lends what it sets (a
skill requirement, an overflow) to the rule that finally wins. Every line has a default
queue, used when no rule targets it (an escalation to L2 with no L2 rule, say). Unknown
fields, operators or queues are load errors with file and line, never silent non-matches.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from caseflow.payloads import MailFacts, RequestStart
from caseflow.platform.yamlsource import (
    SourceError,
    SourceErrors,
    each_valid,
    line_of,
)
from caseflow.requests.lifecycle import Line
from caseflow.requests.topics import TopicBook, book_beside, unknown_topics
from caseflow.routing.conditions import ConditionError, Predicate, compile_when
from caseflow.routing.rule_index import RuleIndex

# A decision explains this many failed rules one by one, and counts the rest.
MAX_EXPLAINED = 25

PersonRef = Literal["customer.personal_manager", "contract.account_manager"]
PERSON_FACT = {
    "customer.personal_manager": "personal_manager",
    "contract.account_manager": "account_manager",
}


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line: Line
    queue: str | None = None
    person: PersonRef | None = None
    skill: str | None = None
    level: int = Field(default=1, ge=1, le=5)

    @model_validator(mode="after")
    def _queue_or_person(self) -> Target:
        if self.queue and self.person:
            raise ValueError("a target names a queue or a person, not both")
        return self


class Overflow(BaseModel):
    """Where a request goes when nobody eligible is free at the target."""

    model_config = ConfigDict(extra="forbid")

    queue: str | None = None
    supervisor: Literal["region"] | None = None
    hold: timedelta | None = Field(default=None, description="retry assignment this often")

    @model_validator(mode="after")
    def _exactly_one(self) -> Overflow:
        if sum(x is not None for x in (self.queue, self.supervisor, self.hold)) != 1:
            raise ValueError("overflow takes exactly one of queue, supervisor, hold")
        if self.hold is not None and self.hold < timedelta(minutes=1):
            raise ValueError("hold retries at most once a minute")
        return self


class RuleSource(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1)
    description: str = ""
    when: dict[str, Any] | None = None
    target: Target
    overflow: Overflow | None = None
    continue_: bool = Field(default=False, alias="continue")


class RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    defaults: dict[Line, str] = Field(default_factory=dict)
    offices: list[str] = Field(default_factory=list, description="regions with our own office")
    rules: list[RuleSource] = Field(default_factory=list)


@dataclass(frozen=True)
class Rule:
    name: str
    file: str
    when: Predicate
    target: Target
    overflow: Overflow | None
    continue_: bool


@dataclass(frozen=True)
class Route:
    line: Line
    queue: str | None
    rule: str
    file: str | None
    reason: str
    person: str | None = None
    skill: str | None = None
    level: int = 1
    overflow: Overflow | None = None
    tried: list[dict[str, str]] = field(default_factory=list)


def email_facts(subject: str | None, mail: MailFacts | None) -> dict[str, Any]:
    """What a condition may test of a request's e-mail — the same when routing rules place
    the case and when the e-mail's topic rules (caseflow.mail.topic_rules) name its topic."""
    return {
        "subject": subject,
        "mailbox": mail.mailbox if mail else None,
        "to": ", ".join(mail.to) if mail else None,
        "has_attachment": bool(mail and mail.has_attachment),
    }


@dataclass
class _Trial:
    """What trying the rules in order has gathered: explanations, lent rules, misses."""

    tried: list[dict[str, str]] = field(default_factory=list)
    lent: list[Rule] = field(default_factory=list)
    skipped: int = 0


@dataclass(frozen=True)
class RuleBook:
    rules: tuple[Rule, ...]
    defaults: dict[Line, str]
    offices: frozenset[str] = frozenset()
    indexed: bool = True  # False: every rule is tried (what the index must agree with)
    index: RuleIndex = field(init=False, repr=False, compare=False)
    # For each line an escalation may ask for (None: intake), how many rules before each
    # position it considers.
    lines_before: dict[Line | None, list[int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        whens = [rule.when for rule in self.rules]
        index = RuleIndex.of(whens) if self.indexed else RuleIndex.none(len(whens))
        object.__setattr__(self, "index", index)
        before: dict[Line | None, list[int]] = {}
        for line in (None, *Line):
            counts = [0]
            for rule in self.rules:
                counts.append(counts[-1] + (line is None or rule.target.line == line))
            before[line] = counts
        object.__setattr__(self, "lines_before", before)

    def facts(self, request: RequestStart) -> dict[str, Any]:
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
            "status": customer.status,
            "planned_volume": customer.planned_volume,
            "contract_unit": customer.contract_unit,
            "office_in_region": customer.region in self.offices,
            "personal_manager": customer.personal_manager,
            "account_manager": customer.account_manager,
            **email_facts(request.subject, request.mail),
        }

    def route(self, request: RequestStart, *, for_line: Line | None = None) -> Route:
        """Intake (for_line None) considers every rule; an escalation only rules for that line."""
        return self.route_facts(self.facts(request), for_line=for_line)

    def route_facts(self, facts: Mapping[str, Any], *, for_line: Line | None = None) -> Route:
        """The first rule that holds, in order. The rules before it that do not hold are
        tried one by one until MAX_EXPLAINED of them have said why; after that only the
        rules the index lets through are tried, and the others counted as not matching."""
        trial = _Trial()
        position = 0
        while position < len(self.rules) and trial.skipped < MAX_EXPLAINED:
            found = self._try(self.rules[position], facts, for_line, trial)
            if found is not None:
                return found
            position += 1
        for worth in self.index.worth_trying(facts, position):
            trial.skipped += self._eligible(position, worth, for_line)
            found = self._try(self.rules[worth], facts, for_line, trial)
            if found is not None:
                return found
            position = worth + 1
        trial.skipped += self._eligible(position, len(self.rules), for_line)
        line = for_line or Line.L1
        tried, lent = trial.tried, trial.lent
        self._summarise(tried, trial.skipped)
        if lent:
            return self._route(lent[-1], None, lent[:-1], tried)
        return Route(
            line,
            self.defaults[line],
            f"default:{line}",
            None,
            f"no rule matched; default queue of {line}",
            tried=tried,
        )

    def _try(
        self, rule: Rule, facts: Mapping[str, Any], for_line: Line | None, trial: _Trial
    ) -> Route | None:
        """The route if this rule decides it; else what trying it adds to the trial."""
        tried = trial.tried
        if for_line is not None and rule.target.line != for_line:
            return None
        if not rule.when.test(facts):
            trial.skipped += 1
            if trial.skipped <= MAX_EXPLAINED:
                tried.append(
                    {"rule": rule.name, "file": rule.file, "why": rule.when.why_not(facts)}
                )
            return None
        person = None
        if rule.target.person:
            person = facts[PERSON_FACT[rule.target.person]]
            if person is None:
                why = f"{rule.target.person} is not set"
                tried.append({"rule": rule.name, "file": rule.file, "why": why})
                return None
        if rule.continue_:
            trial.lent.append(rule)
            tried.append({"rule": rule.name, "file": rule.file, "why": "matched and continued"})
            return None
        self._summarise(tried, trial.skipped)
        return self._route(rule, person, trial.lent, tried)

    def _eligible(self, start: int, end: int, for_line: Line | None) -> int:
        """How many rules in [start, end) an escalation to `for_line` (None: intake) tries."""
        before = self.lines_before[for_line]
        return before[end] - before[start]

    @staticmethod
    def _summarise(tried: list[dict[str, str]], skipped: int) -> None:
        if skipped > MAX_EXPLAINED:
            tried.append(
                {
                    "rule": "…",
                    "file": "",
                    "why": f"{skipped - MAX_EXPLAINED} more rules did not match",
                }
            )

    def _route(
        self, rule: Rule, person: str | None, lent: list[Rule], tried: list[dict[str, str]]
    ) -> Route:
        target = rule.target
        skill, level, overflow = target.skill, target.level, rule.overflow
        for earlier in reversed(lent):
            if skill is None and earlier.target.skill:
                skill, level = earlier.target.skill, earlier.target.level
            overflow = overflow or earlier.overflow
        queue = None if person else (target.queue or self.defaults[target.line])
        where = f"{target.person} {person}" if person else f"queue {queue}"
        reason = f"rule '{rule.name}' ({rule.file}) matched: {rule.when.describe()} → {where}"
        return Route(
            target.line,
            queue,
            rule.name,
            rule.file,
            reason,
            person=person,
            skill=skill,
            level=level,
            overflow=overflow,
            tried=tried,
        )

    def queues(self) -> set[str]:
        named = set(self.defaults.values())
        for rule in self.rules:
            named |= {q for q in (rule.target.queue, rule.overflow and rule.overflow.queue) if q}
        return named


REQUIRED_DEFAULTS = (Line.L1, Line.L2, Line.L3)


def read_texts(directory: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.yaml"))}


def load(directory: Path, *, known_queues: Collection[str] | None = None) -> RuleBook:
    """Read and check every rules file of a directory (topics against its dictionary)."""
    texts = read_texts(directory)
    if not texts:
        raise SourceErrors([SourceError(str(directory), 0, "no routing rules (*.yaml) found")])
    return load_texts(texts, known_queues=known_queues, known_topics=book_beside(directory))


def load_texts(
    texts: dict[str, str],
    *,
    known_queues: Collection[str] | None = None,
    known_topics: TopicBook | None = None,
) -> RuleBook:
    """Check a rule set given as {file name: YAML text}; all problems are reported together."""
    files = sorted(texts)
    if not files:
        raise SourceErrors([SourceError("rules", 0, "no routing rules given")])
    errors: list[SourceError] = []
    rules: list[Rule] = []
    defaults: dict[Line, str] = {}
    offices: set[str] = set()
    for checked in each_valid(RulesFile, texts, errors):
        name, parsed, data, lines = checked.name, checked.model, checked.data, checked.lines
        errors.extend(unknown_topics(data, known_topics, name, lines))
        offices |= set(parsed.offices)
        for line, queue in parsed.defaults.items():
            if line in defaults and defaults[line] != queue:
                errors.append(
                    SourceError(
                        name, line_of(("defaults", line), lines), f"defaults.{line} set twice"
                    )
                )
            defaults[line] = queue
            _check_queue(queue, ("defaults", line), known_queues, name, lines, errors)
        for i, source in enumerate(parsed.rules):
            loc: tuple[str | int, ...] = ("rules", i)
            if any(r.name == source.name for r in rules):
                errors.append(
                    SourceError(
                        name,
                        line_of((*loc, "name"), lines),
                        f"rule name '{source.name}' is used twice",
                    )
                )
            try:
                when = compile_when(source.when, (*loc, "when"))
            except ConditionError as exc:
                errors.append(SourceError(name, line_of(exc.loc, lines), exc.reason))
                continue
            named = {
                "target": source.target.queue,
                "overflow": source.overflow.queue if source.overflow else None,
            }
            for where, named_queue in named.items():
                if named_queue:
                    _check_queue(
                        named_queue, (*loc, where, "queue"), known_queues, name, lines, errors
                    )
            rules.append(
                Rule(source.name, name, when, source.target, source.overflow, source.continue_)
            )
    missing = [line for line in REQUIRED_DEFAULTS if line not in defaults]
    if missing and not errors:
        errors.append(
            SourceError(files[0], 1, f"defaults: no default queue for {', '.join(missing)}")
        )
    if errors:
        raise SourceErrors(errors)
    return RuleBook(tuple(rules), defaults, frozenset(offices))


def _check_queue(
    queue: str,
    loc: tuple[str | int, ...],
    known: Collection[str] | None,
    file: str,
    lines: dict[Any, int],
    errors: list[SourceError],
) -> None:
    if known is not None and queue not in known:
        errors.append(SourceError(file, line_of(loc, lines), f"unknown queue (team) '{queue}'"))
