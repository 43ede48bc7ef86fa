"""The `caseflow` command: run the system (worker, API, the whole dev stack), the schema,
and the groups of commands for people, rules, templates, tokens, audit and e-mail."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer

from caseflow.platform import db as database
from caseflow.platform.settings import get_settings
from caseflow.platform.yamlsource import SourceErrors
from cli.audit import audit_app
from cli.customers import customers_app, segments_app
from cli.mail import mail_app
from cli.people import demo_app, teams_app, users_app
from cli.rules import rules_app
from cli.templates import templates_app
from cli.tokens import tokens_app

app = typer.Typer(help="Caseflow: requests and deals as durable workflows.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
for group, name in (
    (db_app, "db"),
    (users_app, "users"),
    (demo_app, "demo"),
    (rules_app, "rules"),
    (teams_app, "teams"),
    (tokens_app, "tokens"),
    (audit_app, "audit"),
    (customers_app, "customers"),
    (segments_app, "segments"),
    (mail_app, "mail"),
    (templates_app, "templates"),
):
    app.add_typer(group, name=name)


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """uvloop where it is installed (Linux, macOS): a faster event loop for the same code."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


@app.command()
def worker() -> None:
    """Run a Temporal worker with every workflow and activity."""
    import worker as worker_module
    from caseflow.platform.logs import configure

    configure(get_settings().log_level)
    try:
        run_loop(worker_module.run())
    except SourceErrors as exc:
        for error in exc.errors:
            typer.echo(f"routing rules: {error}", err=True)
        raise typer.Exit(1) from None


@app.command("worker-alive")
def worker_alive(
    file: Path | None = typer.Option(None, help="default: CASEFLOW_WORKER_HEALTH_FILE"),
    within: float = typer.Option(30.0, help="seconds since the worker's last sign of life"),
) -> None:
    """Exit 0 if the worker polled Temporal lately (its health file is fresh), else 1."""
    from caseflow.platform.temporal import fresh

    path = file or get_settings().worker_health_file
    if path is None:
        typer.echo("no health file: set CASEFLOW_WORKER_HEALTH_FILE or --file", err=True)
        raise typer.Exit(2)
    if not fresh(path, within):
        typer.echo(f"worker silent: {path} not touched in the last {within:.0f} s", err=True)
        raise typer.Exit(1)
    typer.echo("worker alive")


@app.command("mail-gateway")
def mail_gateway(
    host: str = "127.0.0.1",
    port: int = 2424,
    protocol: Annotated[str, typer.Option(help="lmtp (Postfix lmtp:) or smtp")] = "lmtp",
    topic: Annotated[
        str, typer.Option(help="the topic of a new case from e-mail")
    ] = "consultation",
    region: Annotated[str, typer.Option(help="an unknown sender's region")] = "RU-MOW",
    segment: Annotated[str, typer.Option(help="an unknown sender's segment")] = "b2c",
) -> None:
    """Receive customers' e-mail from your MTA and file it: new cases, replies on their cases."""
    if protocol not in ("lmtp", "smtp"):
        raise typer.BadParameter("lmtp or smtp", param_hint="--protocol")
    from api.app import create_app
    from api.inbound_mail import Intake
    from caseflow.mail import mailboxes
    from caseflow.platform.logs import configure
    from cli.mail_gateway import serve

    settings = get_settings()
    configure(settings.log_level)
    boxes = mailboxes.load(settings.routing_rules_dir / "mail" / "mailboxes.yaml")

    async def main() -> None:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            intake = Intake(topic=topic, region=region, segment=segment)
            server, handler = await serve(
                app.state.caseflow, host, port, protocol, intake, mailboxes=boxes
            )
            typer.echo(f"mail gateway: {protocol.upper()} on {host}:{port}")
            names = ", ".join(b.name for b in boxes) or "none"
            typer.echo(f"mailboxes (read by the worker, filed here): {names}")
            sweeping = asyncio.create_task(handler.sweeping())
            try:
                async with server:
                    await server.serve_forever()
            finally:
                sweeping.cancel()

    run_loop(main())


@app.command()
def api(host: str | None = None, port: int | None = None) -> None:
    """Serve the HTTP API."""
    import uvicorn

    from caseflow.platform.logs import configure

    settings = get_settings()
    configure(settings.log_level)
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_config=None,
        access_log=False,
        http="api.server:ProblemHttpToolsProtocol",  # its own 400s in problem+json too
    )


@app.command()
def dev(
    data_dir: Annotated[Path, typer.Option(help="Where SQLite files and logs go")] = Path(
        ".caseflow"
    ),
    api_port: int = 8000,
    temporal_port: int = 7233,
    ui_port: int = 8233,
    smtp_port: int = 8025,
    mail_in_port: Annotated[int, typer.Option(help="the mail gateway (SMTP)")] = 2525,
    demo_morning: Annotated[
        bool, typer.Option(help="On a fresh database, play a working morning through the API")
    ] = True,
) -> None:
    """Start everything on this machine: Temporal dev server + UI, worker, API, SMTP catcher,
    mail gateway."""
    from cli.devstack import DevStack

    stack = DevStack(
        data_dir=data_dir.resolve(),
        api_port=api_port,
        temporal_port=temporal_port,
        ui_port=ui_port,
        smtp_port=smtp_port,
        mail_in_port=mail_in_port,
        demo_activity=demo_morning,
    )
    raise typer.Exit(stack.run())


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION."""
    database.upgrade(get_settings().sync_database_url, revision)


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Undo migrations down to REVISION (`base` for an empty database)."""
    database.downgrade(get_settings().sync_database_url, revision)


def main() -> None:
    """The `caseflow` command. Once a command is done, the process ends without the
    interpreter's teardown: the Temporal client's own threads can abort a finalizing
    interpreter ("PyGILState_Release … must be current", SIGABRT, temporalio/sdk-python#300),
    which would turn a command that did its work into a failed one."""
    try:
        app()
        code: int = 0
    except SystemExit as done:
        if isinstance(done.code, str):
            print(done.code, file=sys.stderr)
            code = 1
        else:
            code = done.code or 0
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
