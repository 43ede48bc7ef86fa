"""Signing a person in with their password, for every edge (a token from the API, a session
in the console).

The password check runs off the event loop and takes as long for an unknown username as
for a wrong password. Failures are throttled per username and per client address (429 with
Retry-After), and enough wrong passwords in a row lock the account until an admin lifts
it. A locked, inactive or unknown account is refused exactly like a wrong password.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.login_guard import LoginGuard
from api.problems import Problem
from caseflow.access.auth import check_password
from caseflow.models import User, utcnow
from caseflow.platform.settings import Settings


async def sign_in(
    db: AsyncSession,
    settings: Settings,
    guard: LoginGuard,
    username: str,
    password: str,
    address: str,
) -> User:
    """The user, if the password is theirs and they may sign in; else a 401 or 429."""
    wait = guard.retry_after(username, address)
    if wait is not None:
        raise Problem(
            429,
            "too_many_attempts",
            f"too many failed logins; try again in {wait} s",
            retry_after=wait,
        )
    user = await db.scalar(select(User).where(User.username == username))
    hashed = user.password_hash if user is not None else None
    right = await asyncio.to_thread(check_password, password, hashed)
    if user is None or not user.active or user.locked_at is not None or not right:
        guard.failed(username, address)
        if user is not None and not right:
            user.failed_logins += 1
            if user.failed_logins >= settings.login_lockout_after and user.locked_at is None:
                user.locked_at = utcnow()
            await db.commit()
        raise Problem(401, "invalid_credentials", "wrong username or password")
    guard.succeeded(username)
    if user.failed_logins:
        user.failed_logins = 0
        await db.commit()
    return user
