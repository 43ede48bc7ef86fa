"""Idempotency-Key: stored answers for writes that are not workflows (customers), and stable
workflow ids for those that are (requests, deals)."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.problems import Problem
from caseflow.models import IdempotencyKey


def body_hash(body: BaseModel) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def workflow_key(namespace: uuid.UUID, username: str, key: str | None) -> str:
    """The id of what a create makes: the same for a retried key (per caller), else new."""
    return str(uuid.uuid5(namespace, f"{username}:{key}") if key else uuid.uuid4())


def reused() -> Problem:
    return Problem(
        409, "idempotency_key_reused", "this Idempotency-Key was already used with another body"
    )


async def replay(
    session: AsyncSession, *, scope: str, key: str | None, digest: str
) -> IdempotencyKey | None:
    """The stored answer for this key, or None if the key is new; 409 if the body differs."""
    if key is None:
        return None
    row = await session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    )
    if row is not None and row.body_hash != digest:
        raise reused()
    return row


def remember(
    session: AsyncSession,
    *,
    scope: str,
    key: str | None,
    digest: str,
    status: int,
    response: dict[str, Any],
) -> None:
    if key is not None:
        session.add(
            IdempotencyKey(
                scope=scope, key=key, body_hash=digest, status_code=status, response=response
            )
        )
