"""Signing in and out of the console, and who is signed in.

The session is a signed cookie (HttpOnly, SameSite=Lax, `Secure` behind TLS) holding the
username and when the person signed in and was last seen: idle longer than
`console_idle_timeout`, or signed in longer than `token_ttl`, and they sign in again. The
password is checked exactly as for `POST /api/v1/auth/token` (same throttle and lockout).
"""

from __future__ import annotations

import time
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from api.deps import AppSettings, DbSession, State
from api.problems import Problem
from api.sign_in import sign_in
from caseflow.models import User
from console.web import render

router = APIRouter(include_in_schema=False)
KEY = "console"


class SignedOut(Exception):
    """No session, or it lapsed: the browser goes to the sign-in page."""


def install(app: FastAPI) -> None:
    @app.exception_handler(SignedOut)
    async def _to_login(request: Request, _: SignedOut) -> Response:
        target = "/login?next=" + quote(request.url.path, safe="/")
        if request.headers.get("HX-Request") == "true":  # htmx follows this, not a 303
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)


async def console_user(request: Request, db: DbSession, settings: AppSettings) -> User:
    held = request.session.get(KEY)
    if not isinstance(held, dict):
        raise SignedOut
    now = time.time()
    idle = now - float(held.get("seen", 0))
    age = now - float(held.get("since", 0))
    if idle > settings.console_idle_timeout.total_seconds() or age > (
        settings.token_ttl.total_seconds()
    ):
        request.session.clear()
        raise SignedOut
    user = await db.scalar(select(User).where(User.username == held.get("user")))
    if user is None or not user.active or user.locked_at is not None:
        request.session.clear()
        raise SignedOut
    if not request.url.path.endswith("/live"):  # a live stream is not the person at work
        request.session[KEY] = {**held, "seen": now}
    request.state.actor, request.state.role = user.username, user.role  # for the audit trail
    return user


ConsoleUser = Annotated[User, Depends(console_user)]


def safe_next(target: str | None) -> str:
    """Only a path of this site (never `//elsewhere` or a full URL)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": safe_next(next), "problem": None})


@router.post("/login")
async def login(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    app: State,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    address = request.client.host if request.client else "unknown"
    try:
        user = await sign_in(db, settings, app.login_guard, username, password, address)
    except Problem as problem:
        context = {"next": safe_next(next), "problem": problem, "username": username}
        headers = (
            {"Retry-After": str(problem.extensions["retry_after"])}
            if ("retry_after" in problem.extensions)
            else None
        )
        answer = render(request, "login.html", context, status=problem.status)
        if headers:
            answer.headers.update(headers)
        return answer
    request.session.clear()  # a fresh session: nothing carried over from before signing in
    now = time.time()
    request.session[KEY] = {"user": user.username, "since": now, "seen": now}
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/me/language")
async def choose_language(
    request: Request,
    db: DbSession,
    user: ConsoleUser,
    language: Annotated[str, Form(pattern="^(ru|en)$")],
    next: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    """The language the console speaks to this person, kept with them (every browser)."""
    user.locale = language
    await db.commit()
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
