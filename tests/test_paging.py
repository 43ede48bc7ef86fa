"""The one paging helper: every row once, in order, over single and composite keys, both
directions; a cursor it did not give out is a 422 naming `cursor`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Integer, String, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from api.pagination import keyset
from api.problems import Problem
from caseflow.models.base import UtcDateTime

NOON = datetime(2026, 12, 1, 12, tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class Row(Base):
    __tablename__ = "paging_rows"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[str] = mapped_column(String)  # repeats: the composite key's first column
    at: Mapped[datetime] = mapped_column(UtcDateTime)  # repeats too, as times in lists do


@pytest.fixture
async def db():
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with async_sessionmaker(engine)() as session:
        session.add_all(
            Row(id=n, day=f"2026-12-{n % 4:02d}", at=NOON + timedelta(hours=n % 3))
            for n in range(1, 24)
        )
        await session.commit()
        yield session
    await engine.dispose()


async def walk(db, order, **how) -> list[int]:
    seen, cursor = [], None
    while True:
        rows, cursor = await keyset(db, select(Row), order, limit=5, cursor=cursor, **how)
        seen += [row.id for row in rows]
        if cursor is None:
            return seen


@pytest.mark.parametrize("descending", [False, True])
async def test_every_row_once_in_order_over_a_composite_key(db, descending: bool) -> None:
    seen = await walk(db, [Row.day, Row.id], descending=descending)
    expected = sorted(range(1, 24), key=lambda n: (f"2026-12-{n % 4:02d}", n), reverse=descending)
    assert seen == expected


@pytest.mark.parametrize("descending", [False, True])
async def test_a_time_first_key_pages_like_the_timelines(db, descending: bool) -> None:
    seen = await walk(db, [Row.at, Row.id], descending=descending)
    expected = sorted(range(1, 24), key=lambda n: (n % 3, n), reverse=descending)
    assert seen == expected


async def test_a_single_key_pages_both_ways(db) -> None:
    assert await walk(db, [Row.id]) == list(range(1, 24))
    assert await walk(db, [Row.id], descending=True) == list(range(23, 0, -1))


@pytest.mark.parametrize("cursor", ["bm90LWpzb24", "WyIyMDI2Il0", "InRleHQi"])
async def test_a_foreign_cursor_is_refused_by_name(db, cursor: str) -> None:
    with pytest.raises(Problem) as refused:
        await keyset(db, select(Row), [Row.day, Row.id], limit=5, cursor=cursor)
    assert refused.value.status == 422 and "cursor" in str(refused.value.__dict__)
