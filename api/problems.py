"""RFC 9457 problem details for every error the API gives."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError, RPCStatusCode

from caseflow.access import NotVisible

MEDIA_TYPE = "application/problem+json"

TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    415: "Unsupported media type",
    429: "Too many requests",
    422: "Invalid input",
    500: "Internal error",
    503: "Service unavailable",
}
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "validation_error",
    503: "unavailable",
}


class Problem(Exception):
    """Raised anywhere in a request: becomes a problem+json answer."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = errors or []
        self.extensions = extensions


class NulInBody(ValueError):
    """A JSON or form body holds a NUL character, which no text column can keep."""


def nul_problem(where: str) -> Problem:
    return invalid(where, "text may not hold a NUL character (\\u0000)")


def invalid(field: str, reason: str) -> Problem:
    return Problem(
        422, "validation_error", f"{field}: {reason}", errors=[{"field": field, "reason": reason}]
    )


def not_found(what: str) -> Problem:
    return Problem(404, "not_found", f"{what} not found")


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem.code,
        "title": TITLES.get(problem.status, "Error"),
        "status": problem.status,
        "detail": problem.detail,
        "code": problem.code,
        "errors": problem.errors,
        **problem.extensions,
    }
    return JSONResponse(body, status_code=problem.status, media_type=MEDIA_TYPE, headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or "body"


def from_validation(errors: Sequence[Any], detail: str | None = None) -> Problem:
    """A 422 naming each field and its reason, from pydantic's or FastAPI's error list."""
    listed = [{"field": _field(tuple(e["loc"])), "reason": e["msg"]} for e in errors]
    summary = detail or "; ".join(f"{e['field']}: {e['reason']}" for e in listed)
    return Problem(422, "validation_error", summary, errors=listed)


def allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.routes:
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(request.url.path):
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods - {"HEAD"})


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if "retry_after" in exc.extensions:
            headers = {"Retry-After": str(exc.extensions["retry_after"])}
        return problem_response(exc, headers)

    @app.exception_handler(NotVisible)
    async def _not_visible(_: Request, exc: NotVisible) -> JSONResponse:
        return problem_response(not_found(exc.kind.value))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(from_validation(exc.errors()))

    @app.exception_handler(RPCError)
    async def _temporal_down(_: Request, exc: RPCError) -> JSONResponse:
        if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            return problem_response(
                Problem(
                    503, "unavailable", "the workflow engine is not reachable; try again shortly"
                )
            )
        raise exc

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 405:  # every method of the path, not only the first route's
            return problem_response(
                Problem(405, "method_not_allowed", f"{request.method} is not allowed here"),
                {"Allow": ", ".join(allowed_methods(request))},
            )
        if isinstance(exc.__cause__, NulInBody):  # FastAPI wraps what reading the body raised
            return problem_response(nul_problem("body"))
        code = CODES.get(exc.status_code, "error")
        # Keep the exception's headers: a 405 says what is allowed (`Allow`).
        headers = dict(exc.headers) if exc.headers else None
        return problem_response(Problem(exc.status_code, code, str(exc.detail)), headers)

    @app.exception_handler(NulInBody)
    async def _nul(_: Request, exc: NulInBody) -> JSONResponse:
        return problem_response(nul_problem("body"))
