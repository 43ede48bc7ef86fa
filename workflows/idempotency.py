"""The start update's validator, shared by the workflows an Idempotency-Key maps to."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError


def same_body(given: str, started_with: str, what: str) -> None:
    """A retried POST reaches the workflow its key started: only with the same body."""
    if given != started_with:
        raise ApplicationError(
            f"this Idempotency-Key was used for another {what}",
            type="idempotency_key_reused",
            non_retryable=True,
        )
