"""How long a workflow's quick step (a read-model write, a decision) may take and how it is
retried: shared by requests and deals, so both recover from a database blip alike."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

SHORT_STEP = timedelta(seconds=15)
SHORT_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))
