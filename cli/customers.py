"""`caseflow customers`: bring every profile in line with the survivorship rules."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

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


@customers_app.command("import")
def customers_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    source: Annotated[str, typer.Option(help="the source's name: its facts are import:NAME")],
) -> None:
    """Import customers from a CSV (header row) or JSON Lines file as the source
    import:NAME: staged with COPY, then a durable workflow in batches (a worker must run);
    rejected rows are written to FILE.rejects.csv with line, field and reason."""
    from temporalio.common import WorkflowIDReusePolicy

    from caseflow.customers import import_jobs
    from caseflow.models import CustomerImport
    from caseflow.platform import db as database
    from caseflow.platform.temporal import connect
    from workflows.customer_import import CustomerImportWorkflow

    settings = get_settings()

    async def work() -> import_jobs.ImportProgress:
        engine = database.make_engine(settings.database_url)
        try:
            job = await import_jobs.stage(
                engine, f"import:{source}", file.name, file.read_bytes(), "cli"
            )
            typer.echo(f"import {job.id}: {job.rows_total} rows staged")
            client = await connect(settings)
            await client.start_workflow(
                CustomerImportWorkflow.run, job.id, id=f"customer-import-{job.id}",
                task_queue=settings.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )  # fmt: skip
            sessions = database.make_sessionmaker(engine)
            columns = ("rows", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            with Progress(*columns) as bar:
                task = bar.add_task("import", total=job.rows_total)
                while True:
                    async with sessions() as db:
                        row = await db.get(CustomerImport, job.id)
                        assert row is not None
                        now = import_jobs.progress(row)
                    bar.update(task, completed=now.rows_done)
                    if now.finished:
                        break
                    await asyncio.sleep(0.5)
            if now.rejected:
                async with sessions() as db:
                    rejects = await import_jobs.rejects_csv(db, job.id)
                file.with_name(file.name + ".rejects.csv").write_text(rejects, encoding="utf-8")
            return now
        finally:
            await engine.dispose()

    done = asyncio.run(work())
    typer.echo(
        f"{done.status}: {done.rows_done} rows, {done.created} created, {done.updated} updated,"
        f" {done.joined} joined within the file, {done.rejected} rejected"
        f" ({done.rows_per_s:.0f} rows/s)"
        + (f"; rejects in {file.name}.rejects.csv" if done.rejected else "")
    )


segments_app = typer.Typer(help="Customer segments.", no_args_is_help=True)


@segments_app.command("count")
def segments_count() -> None:
    """How many customers each segment of routing_rules/profile/segments.yaml holds now."""
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from caseflow.customers import segments
    from caseflow.models import Customer
    from cli.common import _in_transaction

    try:
        catalogue = segments.load(get_settings().routing_rules_dir / "profile")
    except SourceErrors as exc:
        _rule_errors(exc)

    async def work(session: Any) -> list[tuple[str, str, int]]:
        now = datetime.now(UTC)
        counted = []
        for segment in catalogue.segments:
            where = (Customer.merged_into.is_(None), segments.predicate(segment.when, now))
            total = await session.scalar(select(func.count()).select_from(Customer).where(*where))
            counted.append((segment.code, segment.title, int(total or 0)))
        return counted

    for code, title, total in asyncio.run(_in_transaction(work)):
        typer.echo(f"{total:>9}  {code}  ({title})")
