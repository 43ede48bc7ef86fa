"""Tokens for people (password form) — integration tokens come from the CLI or an admin.

A password check runs off the event loop and takes as long for an unknown username as for
a wrong password. Failures are throttled per username and per client address (429 with
Retry-After), and enough wrong passwords in a row lock the account until an admin lifts
it. A locked, inactive or unknown account is refused exactly like a wrong password.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlalchemy import select

from api.deps import AppSettings, DbSession, State
from api.problems import Problem
from caseflow.access.auth import check_password, issue_token
from caseflow.models import User, utcnow

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
    guard = app.login_guard
    wait = guard.retry_after(form.username, address)
    if wait is not None:
        raise Problem(
            429,
            "too_many_attempts",
            f"too many failed logins; try again in {wait} s",
            retry_after=wait,
        )
    user = await db.scalar(select(User).where(User.username == form.username))
    hashed = user.password_hash if user is not None else None
    right = await asyncio.to_thread(check_password, form.password, hashed)
    if user is None or not user.active or user.locked_at is not None or not right:
        guard.failed(form.username, address)
        if user is not None and not right:
            user.failed_logins += 1
            if user.failed_logins >= settings.login_lockout_after and user.locked_at is None:
                user.locked_at = utcnow()
            await db.commit()
        raise Problem(401, "invalid_credentials", "wrong username or password")
    guard.succeeded(form.username)
    if user.failed_logins:
        user.failed_logins = 0
        await db.commit()
    ttl = settings.token_ttl
    issued = issue_token(
        username=user.username, role=user.role, secret=settings.jwt_secret, ttl=ttl
    )
    return TokenOut(access_token=issued.token, expires_in=int(ttl.total_seconds()))
