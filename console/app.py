"""Mounting the console on the app: session and CSRF middleware, static files, routes."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from asgi_csrf import asgi_csrf
from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from caseflow.platform.settings import Settings
from caseflow.requests import snippets
from console import admin, customer, deal, deals, floor, intake, live, pages, session
from console.feed import ChangeFeed
from console.web import STATIC

SESSION_COOKIE = "caseflow_session"


def secret(settings: Settings, purpose: str) -> str:
    """A key of its own for each use, derived from the deployment's secret."""
    return hashlib.sha256(f"{purpose}:{settings.jwt_secret}".encode()).hexdigest()


def on_api(scope: Scope) -> bool:
    """The JSON API takes bearer tokens, never the console's cookies: no CSRF to guard."""
    path: str = scope.get("path", "")
    return path.startswith("/api/") or path in ("/healthz", "/readyz", "/metrics")


async def csrf_refused(scope: Scope, send: Send, message_id: Any) -> None:
    body = {
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
        "code": "csrf_failed",
        "detail": "the form's CSRF token is missing or does not match; reload the page",
    }
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"application/problem+json")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


class CsrfGuard:
    """asgi-csrf (double-submit cookie, signed) as a Starlette middleware: every unsafe
    request that carries cookies needs the token as a form field or `X-CSRFToken`."""

    def __init__(self, app: ASGIApp, signing_secret: str, secure: bool) -> None:
        self.app = asgi_csrf(
            app,
            signing_secret=signing_secret,
            always_protect={"/login"},
            skip_if_scope=on_api,
            cookie_secure=secure,
            send_csrf_failed=csrf_refused,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def install(app: FastAPI, settings: Settings) -> None:
    # Added last, runs first: CSRF is checked before the session is opened.
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret(settings, "console-session"),
        session_cookie=SESSION_COOKIE,
        max_age=int(settings.token_ttl.total_seconds()),
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(
        CsrfGuard, signing_secret=secret(settings, "console-csrf"), secure=settings.secure_cookies
    )
    # Canned answers are checked now: a broken file stops the start with file, line, reason.
    app.state.snippets = snippets.load(settings.routing_rules_dir / "snippets" / "snippets.yaml")
    app.state.console_feed = ChangeFeed.for_database(settings.database_url)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    session.install(app)
    app.include_router(session.router)
    app.include_router(pages.router)
    app.include_router(live.router)
    app.include_router(floor.router)
    app.include_router(deals.router)
    app.include_router(deal.router)
    app.include_router(intake.router)
    app.include_router(customer.router)
    app.include_router(admin.router)
