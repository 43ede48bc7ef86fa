"""What the commands share: one transaction on the configured database, choices, errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import NoReturn, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.platform import db as database
from caseflow.platform.settings import get_settings
from caseflow.platform.yamlsource import SourceErrors

T = TypeVar("T")

E = TypeVar("E", bound=StrEnum)


def _choice(kind: type[E], value: str, what: str) -> E:
    try:
        return kind(value)
    except ValueError:
        typer.echo(f"unknown {what} '{value}'; one of: {', '.join(kind)}", err=True)
        raise typer.Exit(2) from None


def _rule_errors(exc: SourceErrors) -> NoReturn:
    for error in exc.errors:
        typer.echo(str(error), err=True)
    raise typer.Exit(1)


async def _in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    engine = database.make_engine(get_settings().database_url)
    try:
        async with database.transaction(database.make_sessionmaker(engine)) as session:
            return await work(session)
    finally:
        await engine.dispose()
