"""Tokens for people (password form) — integration tokens come from the CLI or an admin.
How a password is checked, throttled and locked out: `api/sign_in.py`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.deps import AppSettings, DbSession, State
from api.sign_in import sign_in
from caseflow.access.auth import issue_token

router = APIRouter(prefix="/auth", tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


@router.post(
    "/token",
    response_model=TokenOut,
    operation_id="issue_token",
    responses={
        401: {"description": "invalid_credentials"},
        429: {"description": "too_many_attempts, with Retry-After"},
    },
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    db: DbSession,
    settings: AppSettings,
    app: State,
) -> TokenOut:
    address = request.client.host if request.client else "unknown"
    user = await sign_in(db, settings, app.login_guard, form.username, form.password, address)
    ttl = settings.token_ttl
    issued = issue_token(
        username=user.username, role=user.role, secret=settings.jwt_secret, ttl=ttl
    )
    return TokenOut(access_token=issued.token, expires_in=int(ttl.total_seconds()))
