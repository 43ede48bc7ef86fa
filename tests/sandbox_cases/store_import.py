"""A workflow that imports a store module (database code) by mistake."""

from __future__ import annotations

from temporalio import workflow

from caseflow.requests import store  # noqa: F401  (the mistake under test)


@workflow.defn
class ImportsAStore:
    @workflow.run
    async def run(self) -> None:
        return None
