"""The live rule book of a process: loaded at start, swapped atomically on reload.

Reloading is explicit (`POST /admin/routing/reload`, `caseflow rules reload`): the files are
checked, then the version in the database moves on. Each worker compares that version at
its next decision and reloads; a book with errors never replaces the live one.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from pathlib import Path

from caseflow.platform.yamlsource import SourceErrors
from caseflow.routing import rules as routing

log = logging.getLogger("caseflow.routing")


class RuleHolder:
    def __init__(self, directory: Path, *, known_queues: Collection[str] | None = None) -> None:
        self.directory = directory
        self.known_queues = known_queues
        self.version = 0  # not yet compared with the database
        self.current = routing.load(directory, known_queues=known_queues)  # bad: no start

    def reload(self, *, known_queues: Collection[str] | None = None) -> routing.RuleBook:
        """Load and check first; only a book without errors replaces the live one."""
        if known_queues is not None:
            self.known_queues = known_queues
        book = routing.load(self.directory, known_queues=self.known_queues)
        self.current = book
        return book

    def follow(self, version: int, known_queues: Collection[str]) -> None:
        """Catch up with the live version; keep the current book if the files are broken."""
        if version == self.version:
            return
        try:
            self.reload(known_queues=known_queues)
        except SourceErrors as exc:
            log.error(
                "routing rules not reloaded",
                extra={"version": version, "errors": [str(e) for e in exc.errors]},
            )
        self.version = version
