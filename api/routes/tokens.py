"""Integration tokens for admins: issue, list, revoke one by one (refused at once)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from api.deps import AppSettings, CurrentUser, DbSession
from api.problems import invalid, not_found
from api.routes.admin import require
from caseflow.access import tokens
from caseflow.models import ApiToken, User
from caseflow.requests.lifecycle import Role

router = APIRouter(prefix="/admin/tokens", tags=["admin"])
Jti = Annotated[str, Path(min_length=36, max_length=36)]


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64, description="an integration account")
    label: str | None = Field(default=None, max_length=200, description="where it is used")


class TokenInfo(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    jti: str
    username: str
    role: str
    label: str | None
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None


class IssuedToken(TokenInfo):
    token: str = Field(description="shown once; keep it in the integration's secret store")


@router.get("", response_model=list[TokenInfo], operation_id="list_tokens")
async def list_tokens(
    db: DbSession,
    user: CurrentUser,
    username: Annotated[str | None, Query(max_length=64)] = None,
) -> list[TokenInfo]:
    require(user, Role.ADMIN)
    return [TokenInfo.model_validate(t) for t in await tokens.listed(db, username)]


@router.post("", status_code=201, response_model=IssuedToken, operation_id="issue_api_token")
async def issue(
    body: TokenIn, db: DbSession, user: CurrentUser, settings: AppSettings
) -> IssuedToken:
    require(user, Role.ADMIN)
    account = await db.scalar(select(User).where(User.username == body.username))
    if account is None or not account.active or account.role != Role.INTEGRATION:
        raise invalid("username", f"no active integration account '{body.username}'")
    issued = await tokens.issue(
        db,
        username=account.username,
        role=account.role,
        secret=settings.jwt_secret,
        label=body.label,
    )
    await db.commit()
    row = await db.get(ApiToken, issued.jti)
    return IssuedToken(token=issued.token, **TokenInfo.model_validate(row).model_dump())


@router.delete("/{jti}", response_model=TokenInfo, operation_id="revoke_token")
async def revoke(jti: Jti, db: DbSession, user: CurrentUser) -> TokenInfo:
    """From now on the token is refused; the account and its other tokens stay."""
    require(user, Role.ADMIN)
    token = await tokens.revoke(db, jti, by=user.username)
    if token is None:
        raise not_found("token")
    await db.commit()
    return TokenInfo.model_validate(token)
