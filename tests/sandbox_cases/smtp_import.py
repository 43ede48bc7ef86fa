"""A workflow that imports the SMTP library by mistake."""

from __future__ import annotations

import aiosmtplib  # noqa: F401  (the mistake under test)
from temporalio import workflow


@workflow.defn
class ImportsSmtp:
    @workflow.run
    async def run(self) -> None:
        return None
