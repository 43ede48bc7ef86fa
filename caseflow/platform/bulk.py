"""Rows written in bulk: PostgreSQL's COPY inside the session's transaction (what an import
writes by the hundred thousand), a multi-row INSERT on other databases; and a row written
once, whoever tries first, and rows kept in step by key (INSERT … ON CONFLICT on both
databases)."""

from __future__ import annotations

import functools
import json
from typing import Any

from sqlalchemy import JSON, Table, insert, or_
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


async def insert_new(session: AsyncSession, model: Any, values: dict[str, Any]) -> bool:
    """Insert unless a row with the same key exists; True if this call inserted it. `values`
    by column name, sent as parameters of a statement built once per table (what it costs
    to build and key a statement for each row was most of a hot path's Python time)."""
    statement = _inserting_new(session.get_bind().dialect.name, model.__table__)
    return (await session.execute(statement, values)).first() is not None


@functools.cache
def _inserting_new(dialect: str, table: Table) -> Any:
    return (
        _dialect_insert(dialect)(table)
        .on_conflict_do_nothing()
        .returning(*table.primary_key.columns)
    )


async def insert_all_new(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    """Each row inserted unless one with its key exists: one statement, built once per
    table, the rows as its parameters."""
    if rows:
        dialect = session.get_bind().dialect.name
        await session.execute(_inserting_all_new(dialect, model.__table__), rows)


async def upsert(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    """Rows written by their key, in one statement: inserted, or — where a column differs —
    updated; a row as it already is is not written again. The statement is built once per
    table and set of columns, the rows are its parameters."""
    if rows:
        dialect = session.get_bind().dialect.name
        statement = _upserting(dialect, model.__table__, tuple(rows[0]))
        await session.execute(statement, rows)


def _dialect_insert(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


@functools.cache
def _inserting_all_new(dialect: str, table: Table) -> Any:
    return _dialect_insert(dialect)(table).on_conflict_do_nothing()


@functools.cache
def _upserting(dialect: str, table: Table, columns: tuple[str, ...]) -> Any:
    keys = [c.name for c in table.primary_key.columns]
    statement = _dialect_insert(dialect)(table)
    others = [name for name in columns if name not in keys]
    return statement.on_conflict_do_update(
        index_elements=keys,
        set_={name: statement.excluded[name] for name in others},
        where=or_(*(table.c[name].is_distinct_from(statement.excluded[name]) for name in others)),
    )
