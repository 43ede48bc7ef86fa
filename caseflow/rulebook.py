"""The live rule book of a process: loaded at start, swapped atomically on reload."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from caseflow import routing


class RuleHolder:
    def __init__(self, directory: Path, *, known_queues: Collection[str] | None = None) -> None:
        self.directory = directory
        self.known_queues = known_queues
        self.current = routing.load(directory, known_queues=known_queues)  # bad: no start

    def reload(self, *, known_queues: Collection[str] | None = None) -> routing.RuleBook:
        """Load and check first; only a book without errors replaces the live one."""
        if known_queues is not None:
            self.known_queues = known_queues
        book = routing.load(self.directory, known_queues=self.known_queues)
        self.current = book
        return book
