"""Which topic a new case from e-mail takes (`routing_rules/mail/topics.yaml`): the first rule
whose condition holds for the e-mail (its subject, the mailbox it was read from, the
addresses it was sent to, whether it has files), else the mailbox's or the gateway's topic.

The conditions are routing's (`caseflow.routing.conditions`). A rule may only name a topic of
the dictionary that asks for no required field: an e-mail cannot give them, and the case
must be registered all the same. Checked at start (file, line, reason)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from caseflow.payloads import MailFacts
from caseflow.platform.yamlsource import SourceError, SourceErrors, line_of, parse, validate_data
from caseflow.requests.topics import TopicBook, unknown_topics
from caseflow.routing.conditions import ConditionError, Predicate, compile_when
from caseflow.routing.rules import email_facts

FILE = "topics.yaml"
# What a topic rule may test: the e-mail, before there is a case.
FACTS = frozenset({"channel", "subject", "mailbox", "to", "has_attachment"})


class TopicRuleSource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    description: str | None = None
    when: Any = None
    topic: str = Field(min_length=1, max_length=64)


class TopicRulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[TopicRuleSource] = Field(default_factory=list)


@dataclass(frozen=True)
class TopicRule:
    name: str
    when: Predicate
    topic: str


def load(path: Path, book: TopicBook) -> list[TopicRule]:
    """The rules in file order (none when the file is absent)."""
    if not path.exists():
        return []
    data, lines = parse(path.read_text(encoding="utf-8"), path.name)
    found = validate_data(TopicRulesFile, data, lines, path.name)
    errors = unknown_topics(data, book, path.name, lines)
    rules: list[TopicRule] = []
    names: set[str] = set()
    for i, rule in enumerate(found.rules):
        here = ("rules", i)
        if rule.name in names:
            errors.append(SourceError(path.name, line_of(here, lines), f"{rule.name}: used twice"))
        names.add(rule.name)
        topic = book.topics.get(rule.topic)
        if topic is not None and any(f.required for f in topic.fields.values()):
            asked = ", ".join(n for n, f in topic.fields.items() if f.required)
            errors.append(
                SourceError(path.name, line_of((*here, "topic"), lines),
                            f"topic '{rule.topic}' requires fields an e-mail cannot give ({asked})")
            )  # fmt: skip
        try:
            when = compile_when(rule.when, (*here, "when"), known=FACTS)
        except ConditionError as exc:
            errors.append(SourceError(path.name, line_of(exc.loc, lines), exc.reason))
            continue
        rules.append(TopicRule(rule.name, when, rule.topic))
    if errors:
        raise SourceErrors(errors)
    return rules


def chosen(rules: list[TopicRule], subject: str | None, mail: MailFacts) -> TopicRule | None:
    """The first rule that holds for the e-mail, or None."""
    facts = {"channel": "email", **email_facts(subject, mail)}
    return next((rule for rule in rules if rule.when.holds(facts)), None)
