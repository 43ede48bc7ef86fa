"""An import's progress as workflows, the API and the CLI carry it: plain data, no I/O."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class ImportProgress(BaseModel):
    id: str
    source: str
    filename: str
    status: str
    rows_total: int
    rows_done: int
    created: int
    updated: int
    joined: int
    rejected: int
    rows_per_s: float
    eta_s: float | None
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")
