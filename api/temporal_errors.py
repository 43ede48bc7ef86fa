"""Turning Temporal's answers to updates into HTTP problems."""

from __future__ import annotations

from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.problems import Problem

FIELD_OF = {"unknown_queue": "queue", "unknown_assignee": "assignee"}


def business_error(exc: BaseException) -> ApplicationError | None:
    """The ApplicationError behind an update failure (validator or activity), if any."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ApplicationError) and cause.type:
            return cause
        cause = cause.__cause__
    return None


def to_problem(exc: WorkflowUpdateFailedError) -> Problem:
    error = business_error(exc)
    if error is None:
        return Problem(409, "conflict", str(exc.cause or exc))
    details = error.details[0] if error.details and isinstance(error.details[0], dict) else {}
    if error.type == "forbidden":
        named = [
            {"field": f"fields.{f}", "reason": error.message} for f in details.get("fields", [])
        ]
        return Problem(403, "forbidden", error.message, errors=named)
    if error.type in FIELD_OF:
        field = FIELD_OF[error.type]
        return Problem(
            422,
            "validation_error",
            error.message,
            errors=[{"field": field, "reason": error.message}],
        )
    return Problem(409, error.type or "conflict", error.message, **details)


def finished(exc: RPCError) -> Problem | None:
    """An update sent to a request whose workflow has completed."""
    if exc.status == RPCStatusCode.NOT_FOUND or "completed" in exc.message:
        return Problem(409, "illegal_transition", "the request is closed", allowed=[])
    return None
