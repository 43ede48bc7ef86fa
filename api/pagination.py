"""Opaque cursors: `?limit=50&cursor=…` → `{"items": […], "next_cursor": "…" | null}`."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

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


def cut(
    rows: list[Any], limit: int, place_of: Callable[[Any], Place]
) -> tuple[list[Any], str | None]:
    """Rows fetched with `limit + 1`: the page, and the cursor after it if there is more."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    place = place_of(rows[-1])
    return rows, encode(place[0]) if len(place) == 1 else encode_place(place)


def _after(cursor: str | None, kinds: tuple[type, ...]) -> Place | None:
    """The place a cursor names: a bare value for a one-column order, a list otherwise."""
    if len(kinds) > 1:
        return decode_place(cursor, kinds)
    after = decode(cursor)
    if after is None:
        return None
    if not isinstance(after, kinds[0]) or isinstance(after, bool):
        raise invalid("cursor", "not a cursor this API gave out")
    return (after,)


async def keyset(
    db: AsyncSession,
    query: Select[*tuple[Any, ...]],
    order: Sequence[Any],
    *,
    limit: int,
    cursor: str | None,
    descending: bool = False,
    scalars: bool = True,
    place_of: Callable[[Any], Place] | None = None,
) -> tuple[list[Any], str | None]:
    """One page of `query` in the order of `order` (columns, the last unique; all ascending
    or all descending) after the cursor's place, and the cursor after the page. `scalars`:
    the rows are the query's one entity; otherwise result rows. `place_of` reads a row's
    place (default: each column's attribute of the row)."""
    kinds = tuple(column.type.python_type for column in order)
    place = _after(cursor, kinds)
    if place is not None:
        key = tuple_(*order) if len(order) > 1 else order[0]
        value = tuple_(*place) if len(order) > 1 else place[0]
        query = query.where(key < value if descending else key > value)
    query = query.order_by(*(column.desc() if descending else column for column in order))
    result = await db.execute(query.limit(limit + 1))
    rows = list(result.scalars().all() if scalars else result.all())
    return cut(rows, limit, place_of or (lambda row: tuple(getattr(row, c.key) for c in order)))
