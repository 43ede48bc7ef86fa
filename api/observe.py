"""Request metrics, one structured log line per request, and a problem for any crash.

A plain ASGI middleware: Starlette's BaseHTTPMiddleware costs a task per request.
"""

from __future__ import annotations

import logging
import time
import uuid

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.audit import hand_over
from api.problems import NulInBody, Problem, nul_problem, problem_response
from caseflow.platform.logs import REQUEST_ID, WORKFLOW_ID, install_context

log = logging.getLogger("caseflow.api")

HTTP_REQUESTS = Counter(
    "caseflow_http_requests_total", "HTTP requests", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "caseflow_http_request_seconds", "HTTP request latency", ["method", "route"]
)


# Every answer: no type sniffing, no framing, no referrer. A strict policy for what a page
# may load (the console serves its own assets; nothing from elsewhere). The interactive
# API docs (Swagger UI, ReDoc: served from the API too, never from a CDN) start themselves
# with inline scripts, which that policy forbids: they are left without it.
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
SESSION_COOKIE = b"caseflow_session="  # the console's: its pages hold someone's data too


def secured(scope: Scope, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The answer's headers with the security headers added; an answer to a request that
    carried credentials is never stored by a cache (it holds someone's data)."""
    names = {name.lower() for name, _ in headers}
    added = [h for h in ALWAYS if h[0] not in names]
    if not scope["path"].startswith(DOC_PAGES) and CSP[0] not in names:
        added.append(CSP)
    credentials = any(
        name == b"authorization" or (name == b"cookie" and SESSION_COOKIE in value)
        for name, value in scope.get("headers", [])
    )
    if credentials and b"cache-control" not in names:
        added.append((b"cache-control", b"no-store"))
    return [*headers, *added]


# Text with a NUL character cannot be stored (PostgreSQL refuses it in text), so it is
# refused at the door, before anything is started or written.
NUL_IN_JSON = b"\\u0000"
NUL_IN_URL = b"%00"


def guarded(scope: Scope, receive: Receive) -> Receive:
    """`receive`, refusing a JSON or form body that carries a NUL character."""
    headers = dict(scope.get("headers", []))
    kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    pattern = (
        NUL_IN_JSON if kind.endswith(b"json") else NUL_IN_URL if b"urlencoded" in kind else None
    )
    if pattern is None:
        return receive

    async def checked() -> Message:
        message = await receive()
        if message["type"] == "http.request" and pattern in message.get("body", b"").lower():
            raise NulInBody("body")
        return message

    return checked


def request_id_of(scope: Scope) -> str:
    """The caller's X-Request-ID if it is a sane token, else a new one."""
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if 0 < len(text) <= 100 and all(c.isalnum() or c in "-_.:" for c in text):
                return text
    return uuid.uuid4().hex


install_context()


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
        for where, raw in (
            ("path", scope.get("raw_path") or b""),
            ("query", scope["query_string"]),
        ):
            if NUL_IN_URL in raw or b"\x00" in raw:
                await problem_response(nul_problem(where))(scope, receive, send)
                return
        receive = guarded(scope, receive)
        call_id = request_id_of(scope)
        call_token, workflow_token = REQUEST_ID.set(call_id), WORKFLOW_ID.set(None)

        async def tracking_send(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status, answered = message["status"], True
                headers = secured(scope, list(message.get("headers", [])))
                headers.append((b"x-request-id", call_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error", extra={"path": scope["path"]})
            if not answered:
                response = problem_response(Problem(500, "internal_error", "an internal error"))
                await response(scope, receive, tracking_send)
        finally:
            hand_over(scope, status)
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
            REQUEST_ID.reset(call_token)
            WORKFLOW_ID.reset(workflow_token)
