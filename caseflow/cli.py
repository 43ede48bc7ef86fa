"""The `caseflow` command: run the system, manage users, data and rules."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow import db as database
from caseflow.cli_audit import audit_app
from caseflow.cli_mail import mail_app
from caseflow.cli_tokens import tokens_app
from caseflow.settings import get_settings
from caseflow.yamlsource import SourceErrors

T = TypeVar("T")

app = typer.Typer(help="Caseflow: requests and deals as durable workflows.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="People and integration accounts.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
rules_app = typer.Typer(help="Routing rules.", no_args_is_help=True)
teams_app = typer.Typer(help="Teams (queues).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(demo_app, name="demo")
app.add_typer(rules_app, name="rules")
app.add_typer(teams_app, name="teams")
app.add_typer(tokens_app, name="tokens")
app.add_typer(audit_app, name="audit")
app.add_typer(mail_app, name="mail")
templates_app = typer.Typer(help="E-mail templates.", no_args_is_help=True)
app.add_typer(templates_app, name="templates")


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
    from caseflow.temporal import fresh

    path = file or get_settings().worker_health_file
    if path is None:
        typer.echo("no health file: set CASEFLOW_WORKER_HEALTH_FILE or --file", err=True)
        raise typer.Exit(2)
    if not fresh(path, within):
        typer.echo(f"worker silent: {path} not touched in the last {within:.0f} s", err=True)
        raise typer.Exit(1)
    typer.echo("worker alive")


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
    from caseflow.lifecycle import Role
    from caseflow.store import tokens
    from caseflow.store.people import upsert_user

    parsed = _choice(Role, role, "role")

    async def work(session: AsyncSession) -> str | None:
        await upsert_user(
            session, username=name, role=parsed, team=team, password=password, capacity=capacity
        )
        if parsed != Role.INTEGRATION:
            return None
        secret = get_settings().jwt_secret
        issued = await tokens.issue(session, username=name, role=parsed, secret=secret)
        return (
            f"token id {issued.jti}, until {issued.expires_at:%Y-%m-%d}\nAPI token: {issued.token}"
        )

    try:
        token = asyncio.run(_in_transaction(work))
    except LookupError as exc:
        typer.echo(str(exc).strip("'\""), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"user {name} ({parsed}) saved")
    if token is not None:
        typer.echo(token)


@demo_app.command("seed")
def demo_seed() -> None:
    """Load demo teams, users (password `demo`) and customers; safe to run again."""
    from caseflow.demo import seed

    asyncio.run(_in_transaction(seed))
    typer.echo("demo data loaded")


@rules_app.command("check")
def rules_check(directory: Path | None = None) -> None:
    """Validate the routing rules and the SLA policies and pipelines beside them."""
    from caseflow import pipelines, routing, sla

    rules_dir = directory or get_settings().routing_rules_dir
    try:
        book = routing.load(rules_dir)
        policies = sla.load(rules_dir / "sla") if (rules_dir / "sla").is_dir() else None
    except SourceErrors as exc:
        _rule_errors(exc)
    typer.echo(
        f"{len(book.rules)} rules OK; defaults: "
        + ", ".join(f"{k}→{v}" for k, v in book.defaults.items())
    )
    if policies is not None:
        typer.echo(
            f"{len(policies.policies)} SLA policies OK on calendars: "
            + ", ".join(policies.calendars)
        )
        if (rules_dir / "pipelines").is_dir():
            try:
                found = pipelines.load(rules_dir / "pipelines", policies)
            except SourceErrors as exc:
                _rule_errors(exc)
            typer.echo(
                f"{len(found)} pipelines OK: "
                + ", ".join(f"{n} ({len(p.stages)} stages)" for n, p in found.items())
            )


@rules_app.command("reload")
def rules_reload() -> None:
    """Check the rules on disk and make them live: every worker switches at its next decision."""
    from caseflow import routing
    from caseflow.store import rules_state
    from caseflow.store.people import team_codes

    async def work(session: AsyncSession) -> tuple[int, int]:
        book = routing.load(
            get_settings().routing_rules_dir, known_queues=await team_codes(session)
        )
        return len(book.rules), await rules_state.bump(session, by="cli")

    try:
        count, version = asyncio.run(_in_transaction(work))
    except SourceErrors as exc:
        _rule_errors(exc)
    typer.echo(f"{count} rules live as version {version}")


@rules_app.command("what-if")
def rules_what_if(
    proposed: Annotated[Path, typer.Argument(help="a rules file, or a directory of them")],
    sample: Annotated[int, typer.Option(help="the newest N requests")] = 100,
) -> None:
    """Route the newest requests through the proposed rules and show what would change.

    A directory replaces the live rules; a single file joins them under its own name, and
    replaces the live file of the same name (so name a changed copy like the original)."""
    from caseflow import routing, whatif
    from caseflow.store.people import team_codes
    from caseflow.store.samples import recent_intakes
    from caseflow.topics import book_beside

    directory = get_settings().routing_rules_dir
    texts = routing.read_texts(directory)
    try:
        if proposed.is_dir():
            texts = routing.read_texts(proposed)
        else:
            replaces = proposed.name in texts
            texts[proposed.name] = proposed.read_text(encoding="utf-8")
            how = "replaces the live file of that name" if replaces else "joins the live rules"
            typer.echo(f"{proposed.name} {how}")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        typer.echo(f"cannot read {proposed}: {reason}", err=True)
        raise typer.Exit(2) from None

    async def work(session: AsyncSession) -> dict[str, Any]:
        queues = await team_codes(session)
        current = routing.load(directory, known_queues=queues)
        candidate = routing.load_texts(
            texts, known_queues=queues, known_topics=book_beside(directory)
        )
        return whatif.compare(current, candidate, await recent_intakes(session, limit=sample))

    try:
        report = asyncio.run(_in_transaction(work))
    except SourceErrors as exc:
        _rule_errors(exc)
    typer.echo(f"{len(report['changed'])} of {report['sample_size']} decisions would change")
    for change in report["changed"]:
        before, after = change["before"], change["after"]
        typer.echo(
            f"  {change['number']}: {before['rule']} → {before['queue'] or before['person']}"
            f"  ⇒  {after['rule']} → {after['queue'] or after['person']}"
        )
    typer.echo("volume per queue (before → after):")
    for queue, counts in report["volume"].items():
        typer.echo(f"  {queue}: {counts['before']} → {counts['after']}")


@teams_app.command("save")
def teams_save(
    code: str,
    line: Annotated[str, typer.Option(help="L1, L2, L3 or external")],
    name: str | None = None,
    region: str | None = None,
    requeue_when_away: bool = False,
) -> None:
    """Create or change a team (a queue assignment can route to)."""
    from caseflow.lifecycle import Line
    from caseflow.store.people import upsert_team

    parsed = _choice(Line, line, "line")

    async def work(session: AsyncSession) -> object:
        return await upsert_team(
            session,
            code=code,
            name=name or code,
            line=parsed,
            region=region,
            requeue_when_away=requeue_when_away,
        )

    asyncio.run(_in_transaction(work))
    typer.echo(f"team {code} ({parsed}) saved")


@users_app.command("set")
def users_set(
    name: str,
    availability: Annotated[str | None, typer.Option(help="available, away or off")] = None,
    capacity: int | None = None,
    skill: Annotated[list[str] | None, typer.Option(help="NAME=LEVEL, repeatable")] = None,
) -> None:
    """Change what assignment knows of a person: availability, capacity, skills."""
    from sqlalchemy import select

    from caseflow.models import User

    if availability is not None and availability not in ("available", "away", "off"):
        typer.echo("availability is available, away or off", err=True)
        raise typer.Exit(2)
    levels: dict[str, int] = {}
    for item in skill or []:
        skill_name, _, level = item.partition("=")
        if not level.isdigit() or not 1 <= int(level) <= 5:
            typer.echo(f"'{item}': give NAME=LEVEL with a level from 1 to 5", err=True)
            raise typer.Exit(2)
        levels[skill_name] = int(level)

    async def work(session: AsyncSession) -> bool:
        user = await session.scalar(select(User).where(User.username == name))
        if user is None:
            return False
        if availability is not None:
            user.availability = availability
        if capacity is not None:
            user.capacity = capacity
        if levels:
            user.skills = {**(user.skills or {}), **levels}
        return True

    if not asyncio.run(_in_transaction(work)):
        typer.echo(f"no user '{name}'", err=True)
        raise typer.Exit(2)
    typer.echo(f"user {name} updated")


if __name__ == "__main__":
    app()


@templates_app.command("check")
def templates_check(directory: Path | None = None) -> None:
    """Render every e-mail template with sample data for every locale; fail on any error."""
    from jinja2 import TemplateError

    from caseflow.mail_context import sample_context
    from caseflow.mail_templates import LOCALES, READERS, MailTemplates, TemplateMissing

    templates = MailTemplates(directory or get_settings().email_templates_dir)
    names = templates.names()
    failures = []
    for name in names:
        event, _, variant = name.partition("/")
        topic, _, locale = variant.partition(".")
        for language in [locale] if locale else LOCALES:
            for reader in READERS.get(event, ("customer",)):
                try:
                    templates.render(
                        event,
                        None if topic == "default" else topic,
                        language,
                        sample_context(event, language, reader=reader),
                    )
                except (TemplateError, TemplateMissing, OSError) as exc:
                    failures.append(f"{name} ({language}, {reader}): {type(exc).__name__}: {exc}")
    for failure in failures:
        typer.echo(failure, err=True)
    if failures:
        raise typer.Exit(1)
    typer.echo(f"{len(names)} templates OK in {', '.join(LOCALES)}")


@templates_app.command("preview")
def templates_preview(
    event: str,
    topic: str | None = None,
    locale: str = "ru",
    html: Path | None = typer.Option(None, help="also write the HTML part here"),
) -> None:
    """Print one e-mail rendered with sample data: which template, subject, text."""
    from caseflow.mail_context import sample_context
    from caseflow.mail_templates import READERS, MailTemplates, TemplateMissing
    from caseflow.topics import book_beside

    settings = get_settings()
    templates = MailTemplates(settings.email_templates_dir)
    book = book_beside(settings.routing_rules_dir)
    if topic is not None and topic not in book.topics:
        known = ", ".join(sorted(book.topics)) or "none"
        typer.echo(f"no topic '{topic}' (known: {known})", err=True)
        raise typer.Exit(2)
    title = book.title(topic, locale) if topic else None
    reader = READERS.get(event, ("customer",))[0]
    context = sample_context(event, locale, topic, title, reader)
    try:
        if event == "digest":  # its items are the e-mails it stands for
            context["items"] = templates.sample_digest(topic, locale, context)
        rendered = templates.render(event, topic, locale, context)
    except TemplateMissing as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"Template: {rendered.template}\nSubject: {rendered.subject}\n\n{rendered.text}")
    if html is not None:
        html.write_text(rendered.html, encoding="utf-8")
