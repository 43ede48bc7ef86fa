"""`caseflow customers`: bring every profile in line with the survivorship rules."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from caseflow.platform.settings import get_settings
from caseflow.platform.yamlsource import SourceErrors
from cli.common import _rule_errors

customers_app = typer.Typer(help="Customer profiles.", no_args_is_help=True)


@customers_app.command("recompute")
def customers_recompute(
    batch: Annotated[int, typer.Option(min=1, max=10_000)] = 500,
    again: Annotated[bool, typer.Option(help="from the beginning, not where it stopped")] = False,
) -> None:
    """Recompute every profile from its sources by routing_rules/profile/survivorship.yaml
    (after a change of the rules); stopped, it goes on from its last batch when run again."""
    from caseflow.customers import recompute, survivorship
    from caseflow.platform import db as database

    settings = get_settings()
    try:
        rules = survivorship.load(settings.routing_rules_dir / "profile" / "survivorship.yaml")
    except SourceErrors as exc:
        _rule_errors(exc)

    async def work() -> recompute.Progress | None:
        engine = database.make_engine(settings.database_url)
        last = None
        try:
            sessions = database.make_sessionmaker(engine)
            with Progress(
                "profiles", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
            ) as bar:
                task = bar.add_task("recompute", total=None)
                async for last in recompute.run(sessions, rules, "caseflow", batch, again):
                    bar.update(task, completed=last.done, total=last.total)
        finally:
            await engine.dispose()
        return last

    last = asyncio.run(work())
    if last is not None:
        typer.echo(f"{last.done} profiles recomputed, {last.changed} changed")
