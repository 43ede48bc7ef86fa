"""The topic dictionary (`routing_rules/topics/topics.yaml`): what each topic is, what the
operator must ask and check, who may hear what, and how urgent its notifications are.
Routing rules and SLA policies refer to these codes; an unknown code fails their check."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from caseflow.platform.yamlsource import SourceError, line_of, read
from caseflow.requests.lifecycle import Line

Importance = Literal["critical", "normal"]
Disclosure = Literal["public", "customer_confidential", "commercial_confidential"]
DISCLOSURE_RANK: dict[str, int] = {
    "public": 0,
    "customer_confidential": 1,
    "commercial_confidential": 2,
}
# What a caller can prove to the operator.
Proof = Literal[
    "name",
    "phone_on_file",
    "email_on_file",
    "code_word",
    "contract_number",
    "passport",
    "power_of_attorney",
]
FieldType = Literal["string", "integer", "number", "date", "phone", "email"]


def rank(level: str) -> int:
    return DISCLOSURE_RANK.get(level, 0)


def no_proofs() -> list[list[Proof]]:
    return [[]]


class FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    type: FieldType = "string"
    required: bool = True
    pattern: str | None = None
    disclosure: Disclosure = Field(
        default="public", description="callers below this level do not see the value"
    )


class Subtopic(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: dict[str, str] = Field(min_length=1)


class Topic(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: dict[str, str] = Field(min_length=1, description="per language: ru, en, …")
    description: str = ""
    hints: list[str] = Field(default_factory=list, description="shown to the operator")
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    default_priority: Literal["low", "normal", "high", "critical"] = "normal"
    importance: Importance = "normal"
    resolving_line: Line = Field(default=Line.L1, description="the first line that may resolve")
    disclosure: Disclosure = "public"
    identification: list[list[Proof]] = Field(
        default_factory=no_proofs,
        description="any one of these sets of proofs is enough; [[]] needs none",
    )
    subtopics: dict[str, Subtopic] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _identification(self) -> Topic:
        if not self.identification:
            raise ValueError("identification: give at least one set of proofs ([] for none)")
        return self

    def title_in(self, locale: str) -> str:
        return self.title.get(locale) or next(iter(self.title.values()))


class TopicBook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topics: dict[str, Topic]

    def importance(self, code: str) -> Importance:
        topic = self.topics.get(code)
        return topic.importance if topic else "normal"

    def title(self, code: str, locale: str) -> str:
        topic = self.topics.get(code)
        return topic.title_in(locale) if topic else code


def load(path: Path) -> TopicBook:
    """Read and check the dictionary; a missing file is an empty dictionary."""
    return read(TopicBook, path) if path.exists() else TopicBook(topics={})


def book_beside(directory: Path) -> TopicBook:
    """The dictionary of a rules directory (`<dir>/topics/topics.yaml`)."""
    return load(directory / "topics" / "topics.yaml")


def _references(data: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[str, tuple[Any, ...]]]:
    if isinstance(data, dict):
        for key, value in data.items():
            here = (*loc, key)
            if key == "topic":
                if isinstance(value, str):
                    yield value, here
                elif isinstance(value, dict):
                    for op in ("eq", "in", "not_in"):
                        codes = value.get(op)
                        for code in codes if isinstance(codes, list) else [codes]:
                            if isinstance(code, str):
                                yield code, (*here, op)
            else:
                yield from _references(value, here)
    elif isinstance(data, list):
        for i, item in enumerate(data):
            yield from _references(item, (*loc, i))


def unknown_topics(
    data: Any, known: TopicBook | None, file: str, lines: dict[Any, int]
) -> list[SourceError]:
    """Every `topic:` condition naming a code the dictionary does not have."""
    if known is None or not known.topics:
        return []
    return [
        SourceError(file, line_of(loc, lines), f"unknown topic '{code}'")
        for code, loc in _references(data, ())
        if code not in known.topics
    ]
