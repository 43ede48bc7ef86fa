"""Canned answers (`routing_rules/snippets/snippets.yaml`): texts an agent inserts with `::name`,
by topic and language, with the customer's name, the request's number and the agent's
name filled in. Checked at start like the other rule files (file, line, reason)."""

from __future__ import annotations

import string
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from caseflow.platform.yamlsource import read

PLACES = frozenset({"customer", "number", "subject", "agent"})


class Snippet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    locale: str = Field(default="ru", pattern=r"^[a-z]{2}$")
    topics: list[str] = Field(default_factory=list, description="none: every topic")
    text: str = Field(min_length=1, max_length=5000)

    @field_validator("text")
    @classmethod
    def _places(cls, text: str) -> str:
        named = {field for _, field, _, _ in string.Formatter().parse(text) if field}
        unknown = named - PLACES
        if unknown:
            raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; use {sorted(PLACES)}")
        return text


class SnippetBook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    snippets: list[Snippet] = Field(default_factory=list)

    def for_case(self, topic: str, locale: str, values: dict[str, str]) -> dict[str, str]:
        """The snippets this case may use, filled in: the customer's language first, a
        topic's own before the general ones."""
        chosen: dict[str, str] = {}
        ranked = sorted(
            (s for s in self.snippets if not s.topics or topic in s.topics),
            key=lambda s: (s.locale != locale, not s.topics),
        )
        for snippet in ranked:
            chosen.setdefault(snippet.name, snippet.text.format_map(values))
        return dict(sorted(chosen.items()))


def load(path: Path) -> SnippetBook:
    """Read and check the canned answers; a missing file is none."""
    return read(SnippetBook, path) if path.exists() else SnippetBook()
