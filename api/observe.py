"""Request metrics, one structured log line per request, and a problem for any crash.

A plain ASGI middleware: Starlette's BaseHTTPMiddleware costs a task per request.
"""

from __future__ import annotations

import logging
import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import Problem, problem_response

log = logging.getLogger("caseflow.api")

HTTP_REQUESTS = Counter(
    "caseflow_http_requests_total", "HTTP requests", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "caseflow_http_request_seconds", "HTTP request latency", ["method", "route"]
)


# Every answer: no type sniffing, no framing, no referrer. A strict policy for what a page
# may load (the console serves its own assets; nothing from elsewhere). The interactive
# API docs are left without it: their pages are not ours.
ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
CSP = (
    b"content-security-policy",
    b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
)
DOC_PAGES = ("/docs", "/redoc")


def secured(scope: Scope, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The answer's headers with the security headers added; an answer to a request that
    carried credentials is never stored by a cache (it holds someone's data)."""
    names = {name.lower() for name, _ in headers}
    added = [h for h in ALWAYS if h[0] not in names]
    if not scope["path"].startswith(DOC_PAGES) and CSP[0] not in names:
        added.append(CSP)
    credentials = any(name == b"authorization" for name, _ in scope.get("headers", []))
    if credentials and b"cache-control" not in names:
        added.append((b"cache-control", b"no-store"))
    return [*headers, *added]


class Observe:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        answered = False

        async def tracking_send(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status, answered = message["status"], True
                message = {**message, "headers": secured(scope, list(message.get("headers", [])))}
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error", extra={"path": scope["path"]})
            if not answered:
                response = problem_response(Problem(500, "internal_error", "an internal error"))
                await response(scope, receive, tracking_send)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            HTTP_REQUESTS.labels(scope["method"], route, status).inc()
            HTTP_LATENCY.labels(scope["method"], route).observe(elapsed)
            log.info(
                "http",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "ms": round(elapsed * 1000, 1),
                },
            )
