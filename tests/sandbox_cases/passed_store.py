"""A workflow that passes a store module through the sandbox by mistake."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from caseflow.sla import ledger  # noqa: F401  (the mistake under test)


@workflow.defn
class PassesAStore:
    @workflow.run
    async def run(self) -> None:
        return None
