"""Integration tokens: recorded when issued, listed, revoked one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.access.auth import INTEGRATION_TTL, Issued, issue_token
from caseflow.models import ApiToken


async def issue(
    db: AsyncSession,
    *,
    username: str,
    role: str,
    secret: str,
    label: str | None = None,
    ttl: timedelta = INTEGRATION_TTL,
) -> Issued:
    issued = issue_token(username=username, role=role, secret=secret, ttl=ttl, kind="integration")
    db.add(
        ApiToken(
            jti=issued.jti,
            username=username,
            role=role,
            label=label,
            issued_at=issued.issued_at,
            expires_at=issued.expires_at,
        )
    )
    await db.flush()
    return issued


async def listed(db: AsyncSession, username: str | None = None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.issued_at, ApiToken.jti)
    if username is not None:
        query = query.where(ApiToken.username == username)
    return list((await db.scalars(query)).all())


async def revoke(db: AsyncSession, jti: str, *, by: str) -> ApiToken | None:
    """The token, revoked now (or when it was first revoked); None if there is none."""
    token = await db.get(ApiToken, jti)
    if token is not None and token.revoked_at is None:
        token.revoked_at, token.revoked_by = datetime.now(UTC), by
        await db.flush()
    return token


async def active(db: AsyncSession, jti: str) -> bool:
    token = await db.get(ApiToken, jti)
    return token is not None and token.revoked_at is None
