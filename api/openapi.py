"""The OpenAPI document with every operation's problem answers (RFC 9457) declared."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from api.examples import add_examples
from api.problems import MEDIA_TYPE, TITLES


class FieldError(BaseModel):
    field: str = Field(description="the field, dotted (`fields.contract_number`); body: all")
    reason: str


class ProblemOut(BaseModel):
    """Every error answer: `type` is the stable code to branch on."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] = Field(default_factory=list)


WRITES = frozenset({"post", "put", "patch", "delete"})


def problems_of(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    """The problem answers an operation can give (400: a body that cannot be parsed)."""
    codes = [401, 403, 422, 503]
    if "requestBody" in operation:
        codes.append(400)
    if "{" in path:
        codes.append(404)
    if method in WRITES:
        codes.append(409)
    if path.endswith("/auth/token"):
        codes = [400, 401, 422, 429, 503]
    if "/webhooks/" in path:
        codes.append(400)
    return sorted(set(codes))


def document(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    spec = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = ProblemOut.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schemas["Problem"].pop("$defs", {}))
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    problem = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in spec.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code in problems_of(path, method, operation):
                entry = responses.setdefault(str(code), {})
                entry.setdefault("description", TITLES.get(code, "Error"))
                entry["content"] = problem
    add_examples(spec)
    app.openapi_schema = spec
    return spec
