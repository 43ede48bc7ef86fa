"""Opaque cursors: `?limit=50&cursor=…` → `{"items": […], "next_cursor": "…" | null}`."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from api.bounds import fits, representable
from api.problems import invalid

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=200, description="Items per page")]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def decode(cursor: str | None) -> Any:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        # Strict: a character outside the alphabet is a wrong cursor, not one to skip.
        value = json.loads(base64.b64decode(padded.encode(), altchars=b"-_", validate=True))
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid("cursor", "not a cursor this API gave out") from exc
    if not fits(value):
        raise invalid("cursor", "not a cursor this API gave out")
    return value


Place = tuple[Any, ...]


def encode_place(place: Place) -> str:
    """A cursor for a position in a list ordered by several columns (time first)."""
    return encode([v.isoformat() if isinstance(v, datetime) else v for v in place])


def decode_place(cursor: str | None, kinds: tuple[type, ...]) -> Place | None:
    """The position a cursor from encode_place names, its values as `kinds`; 422 if not."""
    after = decode(cursor)
    if after is None:
        return None
    try:
        if not isinstance(after, list) or len(after) != len(kinds):
            raise ValueError("wrong shape")
        place = tuple(
            representable(datetime.fromisoformat(v)) if kind is datetime else kind(v)
            for v, kind in zip(after, kinds, strict=True)
        )
        if not fits(list(place)):
            raise ValueError("out of range")
        return place
    except (TypeError, ValueError) as exc:
        raise invalid("cursor", "not a cursor this API gave out") from exc


async def by_key(
    db: AsyncSession,
    query: Select[Any],
    key: InstrumentedAttribute[Any],
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[Any], str | None]:
    """One page of `query` in the order of a unique text or integer column, and the cursor
    after it."""
    after = decode(cursor)
    if after is not None:
        wanted = key.type.python_type  # a text key takes text, a number key a number
        if not isinstance(after, wanted) or isinstance(after, bool):
            raise invalid("cursor", "not a cursor this API gave out")
        query = query.where(key > after)
    rows = list((await db.scalars(query.order_by(key).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode(getattr(rows[-1], key.key)) if more else None
