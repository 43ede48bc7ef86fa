"""Structured logs: one JSON object a line, with the fields a log search needs."""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}

# What every log line written while serving a call carries: the call's id (X-Request-ID)
# and the workflow it reached (a request's or a deal's), to find one case's story in the logs.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
WORKFLOW_ID: ContextVar[str | None] = ContextVar("workflow_id", default=None)


def install_context() -> None:
    """Every log record gets `request_id` and `workflow_id` when they are set (once)."""
    make = logging.getLogRecordFactory()
    if getattr(make, "caseflow", False):
        return

    def record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        entry = make(*args, **kwargs)
        for name, var in (("request_id", REQUEST_ID), ("workflow_id", WORKFLOW_ID)):
            value = var.get()
            if value is not None and not hasattr(entry, name):
                setattr(entry, name, value)
        return entry

    record.caseflow = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(record)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
