"""`caseflow users`, `teams` and `demo`: people, queues and the demo data."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.platform.settings import get_settings
from cli.common import _choice, _in_transaction

users_app = typer.Typer(help="People and integration accounts.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
teams_app = typer.Typer(help="Teams (queues).", no_args_is_help=True)


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
    from caseflow.access import tokens
    from caseflow.people.store import upsert_user
    from caseflow.requests.lifecycle import Role

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
    from cli.demo import seed

    asyncio.run(_in_transaction(seed))
    typer.echo("demo data loaded")


@teams_app.command("save")
def teams_save(
    code: str,
    line: Annotated[str, typer.Option(help="L1, L2, L3 or external")],
    name: str | None = None,
    region: str | None = None,
    requeue_when_away: bool = False,
) -> None:
    """Create or change a team (a queue assignment can route to)."""
    from caseflow.people.store import upsert_team
    from caseflow.requests.lifecycle import Line

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
