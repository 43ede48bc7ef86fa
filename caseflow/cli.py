"""The `caseflow` command: run the system, manage users, data and rules."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer

from caseflow import db as database
from caseflow.settings import get_settings

app = typer.Typer(help="Caseflow: requests and deals as durable workflows.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="People and integration accounts.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
rules_app = typer.Typer(help="Routing rules.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(demo_app, name="demo")
app.add_typer(rules_app, name="rules")


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
    from caseflow.logs import configure
    from caseflow.yamlsource import SourceErrors

    configure(get_settings().log_level)
    try:
        run_loop(worker_module.run())
    except SourceErrors as exc:
        for error in exc.errors:
            typer.echo(f"routing rules: {error}", err=True)
        raise typer.Exit(1) from None


@app.command()
def api(host: str | None = None, port: int | None = None) -> None:
    """Serve the HTTP API."""
    import uvicorn

    from caseflow.logs import configure

    settings = get_settings()
    configure(settings.log_level)
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_config=None,
        access_log=False,
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
) -> None:
    """Start everything on this machine: Temporal dev server + UI, worker, API, SMTP catcher."""
    from caseflow.devstack import DevStack

    stack = DevStack(
        data_dir=data_dir.resolve(),
        api_port=api_port,
        temporal_port=temporal_port,
        ui_port=ui_port,
        smtp_port=smtp_port,
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


async def _in_transaction(work) -> object:  # type: ignore[no-untyped-def]
    engine = database.make_engine(get_settings().database_url)
    try:
        async with database.transaction(database.make_sessionmaker(engine)) as session:
            return await work(session)
    finally:
        await engine.dispose()


@users_app.command("create")
def users_create(
    name: str,
    role: Annotated[
        str, typer.Option(help="operator, agent, supervisor, manager, admin, integration")
    ],
    team: str | None = None,
    password: Annotated[str | None, typer.Option(help="omit for integration accounts")] = None,
    capacity: int = 20,
) -> None:
    """Create or update a user; an integration account gets a long-lived API token."""
    from caseflow.auth import INTEGRATION_TTL, issue_token
    from caseflow.lifecycle import Role
    from caseflow.store.people import upsert_user

    try:
        parsed = Role(role)
    except ValueError:
        typer.echo(f"unknown role '{role}'", err=True)
        raise typer.Exit(2) from None

    async def work(session):  # type: ignore[no-untyped-def]
        return await upsert_user(
            session, username=name, role=parsed, team=team, password=password, capacity=capacity
        )

    try:
        asyncio.run(_in_transaction(work))
    except LookupError as exc:
        typer.echo(str(exc).strip("'\""), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"user {name} ({parsed}) saved")
    if parsed == Role.INTEGRATION:
        settings = get_settings()
        token = issue_token(
            username=name, role=parsed, secret=settings.jwt_secret, ttl=INTEGRATION_TTL
        )
        typer.echo(f"API token: {token}")


@demo_app.command("seed")
def demo_seed() -> None:
    """Load demo teams, users (password `demo`) and customers; safe to run again."""
    from caseflow.demo import seed

    asyncio.run(_in_transaction(seed))
    typer.echo("demo data loaded")


@rules_app.command("check")
def rules_check(directory: Path | None = None) -> None:
    """Validate the routing rules; errors name file, line and reason."""
    from caseflow import routing
    from caseflow.yamlsource import SourceErrors

    try:
        book = routing.load(directory or get_settings().routing_rules_dir)
    except SourceErrors as exc:
        for error in exc.errors:
            typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"{len(book.rules)} rules OK; defaults: "
        + ", ".join(f"{k}→{v}" for k, v in book.defaults.items())
    )


if __name__ == "__main__":
    app()
