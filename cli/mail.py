"""`caseflow mail`: read what the development mail catcher of `make run` caught, decoded;
send failed e-mails again."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import typer

from cli.mail_catcher import kept

mail_app = typer.Typer(help="E-mails the mail catcher of `make run` caught, readable.")

FOLDER = typer.Option(Path(".caseflow") / "mail", "--dir", help="where the catcher keeps mail")
HEADERS = ("Date", "From", "To", "Reply-To", "Subject", "Message-ID")


@mail_app.command("list")
def mail_list(
    to: str | None = typer.Option(None, help="only mail to this address"),
    limit: int = typer.Option(20, min=1, help="the newest this many"),
    folder: Path = FOLDER,
) -> None:
    """The newest caught e-mails: number, date, recipient, subject."""
    found = [k for k in kept(folder) if to is None or to.lower() in str(k.message["To"]).lower()]
    if not found:
        typer.echo(f"no mail in {folder}")
        return
    for item in found[-limit:]:
        m = item.message
        typer.echo(f"{item.number:>5}  {m['Date']}  {m['To']}  {m['Subject']}")


@mail_app.command("show")
def mail_show(number: int, folder: Path = FOLDER) -> None:
    """One caught e-mail: its headers and its text, decoded."""
    found = {k.number: k for k in kept(folder)}
    if number not in found:
        typer.echo(f"no mail #{number} in {folder} (see: caseflow mail list)", err=True)
        raise typer.Exit(2)
    item = found[number]
    for name in HEADERS:
        if item.message[name] is not None:
            typer.echo(f"{name}: {item.message[name]}")
    typer.echo("")
    typer.echo(item.text)


@mail_app.command("resend")
def mail_resend(
    since: datetime = typer.Option(..., help="failed since this date or time (UTC if no zone)"),
    failed: bool = typer.Option(True, "--failed", help="the failed ones (the only kind resent)"),
) -> None:
    """Send failed e-mails again, each as it was rendered and under its own Message-ID (a
    worker sends them, with the usual retries); prints how many were queued."""
    count = asyncio.run(_resend(since))
    typer.echo(f"{count} failed e-mail(s) queued to be sent again")


async def _resend(since: datetime) -> int:
    from datetime import UTC

    from sqlalchemy import select
    from temporalio.common import WorkflowIDConflictPolicy

    from caseflow.mail.context import resend_order
    from caseflow.models import Notification
    from caseflow.platform.db import make_engine, make_sessionmaker
    from caseflow.platform.settings import get_settings
    from caseflow.platform.temporal import connect

    settings = get_settings()
    moment = since if since.tzinfo else since.replace(tzinfo=UTC)
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            rows = (
                await session.execute(
                    select(Notification.message_id, Notification.attempts).where(
                        Notification.status == "failed", Notification.created_at >= moment
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    client = await connect(settings)
    for message_id, attempts in rows:
        workflow_id, order = resend_order(message_id, attempts, settings.mail_give_up_after)
        await client.start_workflow(
            "ResendWorkflow",
            order,
            id=workflow_id,
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    return len(rows)
