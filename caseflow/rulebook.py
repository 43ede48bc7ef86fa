"""The live rule book of a process: loaded at start, swapped atomically on reload."""

from __future__ import annotations

from pathlib import Path

from caseflow import routing


class RuleHolder:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.current = routing.load(directory)  # a bad file stops start-up here

    def reload(self) -> routing.RuleBook:
        """Load and check first; only a book without errors replaces the live one."""
        book = routing.load(self.directory)
        self.current = book
        return book
