"""Rendering: the templates, what every page is given, how times are shown."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from jinja2_fragments.fastapi import Jinja2Blocks
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from api.problems import Problem, from_validation
from caseflow.models import User
from caseflow.platform.settings import get_settings
from console.i18n import LANGUAGES, language_of, translator

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
templates = Jinja2Blocks(directory=HERE / "templates")


def zone_of(user: User | None) -> ZoneInfo:
    """The person's time zone: their working hours', else the deployment's default."""
    schedule = (user.schedule or {}) if user is not None else {}
    name = schedule.get("timezone") or get_settings().default_timezone
    return ZoneInfo(str(name))


def local(value: datetime | None, zone: ZoneInfo, form: str = "%d.%m.%Y %H:%M") -> str:
    return "" if value is None else value.astimezone(zone).strftime(form)


UNITS = {"ru": ("д", "ч", "мин"), "en": ("d", "h", "min")}


def span(value: timedelta | None, language: str = "en") -> str:
    """A business-time span as people read it: 1 d 2 h 5 min (1 д 2 ч 5 мин)."""
    if value is None:
        return ""
    day, hour, minute = UNITS.get(language, UNITS["en"])
    seconds = int(abs(value.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days} {day}"] if days else []
    parts += [f"{hours} {hour}"] if hours else []
    parts += [f"{minutes} {minute}"] if minutes or not parts else []
    return ("−" if value.total_seconds() < 0 else "") + " ".join(parts)


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    block: str | None = None,
    status: int = 200,
) -> Response:
    """The page, or one block of it (what htmx asks for): never a second copy of markup."""
    user = context.get("user")
    zone = zone_of(user)
    csrf = request.scope.get("csrftoken")
    state = getattr(request.app.state, "caseflow", None)
    settings = state.settings if state is not None else get_settings()
    language = language_of(user, settings.default_locale)
    values = {
        "request": request,
        "_": translator(language),
        "lang": language,
        "languages": LANGUAGES,
        "csrftoken": csrf() if csrf else "",
        "zone": zone,
        "local": lambda v, form="%d.%m.%Y %H:%M": local(v, zone, form),
        "span": lambda value: span(value, language),
        **context,
    }
    if block is not None:
        return templates.TemplateResponse(
            request, name, values, block_name=block, status_code=status
        )
    return templates.TemplateResponse(request, name, values, status_code=status)


def wants_block(request: Request) -> bool:
    """An htmx request that is not a full navigation (boosted links get whole pages)."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-Boosted")


T = TypeVar("T")


async def attempt(step: Callable[[], Awaitable[T]]) -> tuple[T | None, Problem | None]:
    """One of the API's own steps; its refusal (a Problem, or a body model's ValidationError
    as the API's 422) is returned, to be shown on the page in place, never raised."""
    try:
        return await step(), None
    except ValidationError as exc:
        return None, from_validation(exc.errors())
    except Problem as exc:
        return None, exc
