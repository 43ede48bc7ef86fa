"""The topic dictionary (`routing_rules/topics.yaml`): what each topic is called and how
urgent its notifications are. Routing rules and SLA policies refer to these codes."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from caseflow.yamlsource import read

Importance = Literal["critical", "normal"]


class Topic(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: dict[str, str] = Field(min_length=1, description="per language: ru, en, …")
    importance: Importance = "normal"

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
