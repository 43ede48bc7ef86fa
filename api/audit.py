"""The audit trail at the edge: every state-changing call and every read of a customer's
data is handed (by the Observe middleware, once answered) to a writer that chains it into
the audit log.

The writer batches what arrives within `flush_every` into one transaction (so auditing
costs intake a few per cent, not a transaction each); a batch that fails is retried, and
what is queued is written before the process stops. A process killed outright loses at
most the calls of the last `flush_every`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import Scope

from caseflow import audit
from caseflow.platform.db import transaction

log = logging.getLogger("caseflow.audit")

API = "/api/v1"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Reads of a customer's profile, timeline, representatives, confidential fields and files.
SENSITIVE_READS = frozenset(
    {
        "/api/v1/customers",
        "/api/v1/customers/{customer_id}",
        "/api/v1/customers/{customer_id}/interactions",
        "/api/v1/customers/{customer_id}/representatives",
        "/api/v1/customers/{customer_id}/history",
        "/api/v1/customers/{customer_id}/duplicates",
        "/api/v1/customers/{customer_id}/consents",
        "/api/v1/customers/{customer_id}/products",
        "/api/v1/customers/{customer_id}/export",
        "/api/v1/requests/{request_id}",
        "/api/v1/requests/{request_id}/files",
        "/api/v1/requests/{request_id}/files/{sha256}",
        "/api/v1/requests/{request_id}/notifications",
        "/api/v1/deals/{deal_id}",
        "/api/v1/admin/audit",
        "/api/v1/admin/audit/export",
    }
)
# Which path parameter names the record, and its kind.
RECORDS = (
    ("request_id", "request"),
    ("customer_id", "customer"),
    ("deal_id", "deal"),
    ("username", "person"),
    ("jti", "token"),
    ("connector", "connector"),
    ("code", "team"),
)


class AuditWriter:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        flush_every: float = 0.05,
        batch: int = 500,
    ) -> None:
        self.sessions, self.flush_every, self.batch = sessions, flush_every, batch
        self.queue: asyncio.Queue[audit.Call] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        self.idle = asyncio.Event()
        self.idle.set()

    def add(self, call: audit.Call) -> None:
        self.idle.clear()
        self.queue.put_nowait(call)

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name="audit-writer")

    async def flush(self) -> None:
        """Until everything handed in so far is written."""
        await self.idle.wait()  # cleared by every add, set once the queue is written out

    async def close(self) -> None:
        await self.flush()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def _run(self) -> None:
        while True:
            calls = [await self.queue.get()]
            await asyncio.sleep(self.flush_every)
            while not self.queue.empty() and len(calls) < self.batch:
                calls.append(self.queue.get_nowait())
            while True:
                try:
                    async with transaction(self.sessions) as session:
                        await audit.append(session, calls)
                    break
                except Exception:  # the database is away: keep the batch and try again
                    log.exception("audit batch not written; retrying")
                    await asyncio.sleep(1)
            if self.queue.empty():
                self.idle.set()


def audited(method: str, route: str) -> bool:
    return route.startswith("/api/v1/") and (
        method in WRITES or (method == "GET" and route in SENSITIVE_READS)
    )


def hand_over(scope: Scope, status: int) -> None:
    """After the app answered: give the call to the app's writer, if it is audited."""
    route = template(scope)
    state = getattr(scope["app"].state, "caseflow", None)
    if route and state is not None and state.audit is not None:
        if audited(scope["method"], route):
            state.audit.add(call_of(scope, route, status))


def template(scope: Scope) -> str | None:
    """The matched route as written in the API (`/api/v1/requests/{request_id}`)."""
    path = getattr(scope.get("route"), "path", None)
    if path is None or not scope["path"].startswith(API):
        return None
    return path if path.startswith(API) else API + path


def call_of(scope: Scope, route: str, status: int) -> audit.Call:
    state = scope.get("state", {})
    params = scope.get("path_params", {})
    kind, record = next(((k, str(params[p])) for p, k in RECORDS if p in params), (None, None))
    client = scope.get("client")
    return audit.Call(
        at=datetime.now(UTC),
        actor=state.get("actor"),
        role=state.get("role"),
        method=scope["method"],
        route=route,
        record_kind=kind,
        record_id=record[:100] if record else None,
        detail=str(params.get("action") or params.get("outcome") or params.get("verb") or "")
        or None,
        address=client[0] if client else None,
        status=status,
    )
