"""Tokens for people (password form) — integration tokens come from the CLI."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlalchemy import select

from api.deps import AppSettings, DbSession
from api.problems import Problem
from caseflow.auth import check_password, issue_token
from caseflow.models import User

router = APIRouter(prefix="/auth", tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


@router.post("/token", response_model=TokenOut, operation_id="issue_token")
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], db: DbSession, settings: AppSettings
) -> TokenOut:
    user = await db.scalar(select(User).where(User.username == form.username))
    if user is None or not user.active or not check_password(form.password, user.password_hash):
        raise Problem(401, "invalid_credentials", "wrong username or password")
    ttl = settings.token_ttl
    return TokenOut(
        access_token=issue_token(
            username=user.username, role=user.role, secret=settings.jwt_secret, ttl=ttl
        ),
        expires_in=int(ttl.total_seconds()),
    )
