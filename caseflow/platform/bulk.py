"""Rows written in bulk: PostgreSQL's COPY inside the session's transaction (what an import
writes by the hundred thousand), a multi-row INSERT on other databases; and a row written
once, whoever tries first, and rows kept in step by key (INSERT … ON CONFLICT on both
databases)."""

from __future__ import annotations

import functools
import json
from typing import Any

from sqlalchemy import JSON, Table, insert, inspect, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def written(db: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    """Rows written in bulk: COPY in the session's transaction on PostgreSQL (JSON columns
    as JSON text), one multi-row INSERT elsewhere."""
    if not rows:
        return
    connection = await db.connection()
    if connection.dialect.name != "postgresql":
        await db.execute(insert(model), rows)
        return
    columns = [c for c in model.__table__.columns if c.name in rows[0]]
    names = [c.name for c in columns]
    as_json = [i for i, c in enumerate(columns) if isinstance(c.type, JSON)]
    raw = await connection.get_raw_connection()
    cursor = raw.driver_connection.cursor()  # type: ignore[union-attr]
    async with cursor.copy(f"COPY {model.__tablename__} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            values = [row.get(n) for n in names]
            for i in as_json:
                if values[i] is not None:
                    values[i] = json.dumps(values[i], ensure_ascii=False)
            await copy.write_row(values)


def _insert_or_not(session: AsyncSession) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT."""
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


async def insert_new(session: AsyncSession, model: Any, values: dict[str, Any]) -> bool:
    """Insert unless a row with the same key exists; True if this call inserted it. `values`
    by column name, sent as parameters of a statement built once per table (what it costs
    to build and key a statement for each row was most of a hot path's Python time)."""
    statement = _inserting_new(session.get_bind().dialect.name, model.__table__)
    return (await session.execute(statement, values)).first() is not None


@functools.cache
def _inserting_new(dialect: str, table: Table) -> Any:
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert_(table).on_conflict_do_nothing().returning(*table.primary_key.columns)


async def insert_all_new(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    """Each row inserted unless one with its key exists: one statement for them all."""
    if rows:
        await session.execute(_insert_or_not(session)(model).values(rows).on_conflict_do_nothing())


async def upsert(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    """Rows written by their key, in one statement: inserted, or — where a column differs —
    updated; a row as it already is is not written again."""
    if not rows:
        return
    keys = [c.name for c in inspect(model).primary_key]
    statement = _insert_or_not(session)(model).values(rows)
    others = [name for name in rows[0] if name not in keys]
    table = model.__table__.c
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=keys,
            set_={name: statement.excluded[name] for name in others},
            where=or_(*(table[name].is_distinct_from(statement.excluded[name]) for name in others)),
        )
    )
