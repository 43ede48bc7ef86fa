"""One operation per request action, each with its own typed body in the OpenAPI document
(`POST /requests/{id}/escalate` takes `{to_line, reason, queue?}`, …). All of them go through
the same `perform`: body checks, targets, then the workflow update and its validator."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header

from api.actions import BODIES, NoBody, perform
from api.deps import CurrentUser, DbSession, Temporal
from api.deps import State as App
from api.request_views import RequestOut
from api.routes.requests import RequestId
from caseflow import access
from caseflow.requests.lifecycle import ACTIONS

router = APIRouter(prefix="/requests", tags=["requests"])
RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "forbidden: the caller's role or line may not do this"},
    409: {"description": "illegal_transition, with `allowed`"},
    503: {
        "description": "unconfirmed: no worker confirmed it in time (Retry-After); sent again "
        "with the same Idempotency-Key it happens once"
    },
}


def endpoint(name: str, model: type[NoBody]) -> Callable[..., Awaitable[RequestOut]]:
    async def act(
        request_id: str,
        db: Any,
        user: Any,
        temporal: Any,
        app: Any,
        body: NoBody | None,
        idempotency_key: str | None = None,
    ) -> RequestOut:
        row = await access.request(db, user, request_id)
        payload = body.model_dump(exclude_unset=True) if body is not None else {}
        deadline = app.settings.intake_deadline
        return await perform(
            db, user, temporal, row, name, payload, app.ticketing, deadline=deadline,
            key=idempotency_key,
        )  # fmt: skip

    required = any(f.is_required() for f in model.model_fields.values())
    body = (
        inspect.Parameter(
            "body", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[model, Body()]
        )
        if required
        else inspect.Parameter(
            "body",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[model | None, Body()],
            default=None,
        )
    )
    parameters = [
        inspect.Parameter("request_id", inspect.Parameter.KEYWORD_ONLY, annotation=RequestId),
        inspect.Parameter("db", inspect.Parameter.KEYWORD_ONLY, annotation=DbSession),
        inspect.Parameter("user", inspect.Parameter.KEYWORD_ONLY, annotation=CurrentUser),
        inspect.Parameter("temporal", inspect.Parameter.KEYWORD_ONLY, annotation=Temporal),
        inspect.Parameter("app", inspect.Parameter.KEYWORD_ONLY, annotation=App),
        body,
        inspect.Parameter(
            "idempotency_key",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[str | None, Header(max_length=200)],
            default=None,
        ),
    ]
    act.__signature__ = inspect.Signature(parameters, return_annotation=RequestOut)  # type: ignore[attr-defined]
    act.__name__ = f"request_{name.replace('-', '_')}"
    return act


for _name, _model in BODIES.items():
    rule = ACTIONS[_name]
    router.add_api_route(
        f"/{{request_id}}/{_name}",
        endpoint(_name, _model),
        methods=["POST"],
        response_model=RequestOut,
        operation_id=f"request_{_name.replace('-', '_')}",
        summary=f"{_name}: from {', '.join(sorted(rule.sources))}",
        responses=RESPONSES,
    )
