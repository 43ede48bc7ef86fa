"""`caseflow tokens`: integration tokens, listed, issued and revoked one by one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.access.auth import Issued
from caseflow.platform.settings import get_settings

tokens_app = typer.Typer(help="Integration tokens.", no_args_is_help=True)
T = TypeVar("T")


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from cli.common import _in_transaction

    return asyncio.run(_in_transaction(work))


@tokens_app.command("list")
def tokens_list(user: Annotated[str | None, typer.Option(help="one account's")] = None) -> None:
    """Every integration token: id, account, label, until when, revoked."""
    from caseflow.access import tokens

    rows = _run(lambda session: tokens.listed(session, user))
    for t in rows:
        state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M} by {t.revoked_by}" if t.revoked_at else ""
        until = f"until {t.expires_at:%Y-%m-%d}"
        typer.echo(f"{t.jti}  {t.username}  {t.label or '-'}  {until}  {state or 'active'}")
    if not rows:
        typer.echo("no integration tokens")


@tokens_app.command("issue")
def tokens_issue(
    user: str, label: Annotated[str | None, typer.Option(help="where it is used")] = None
) -> None:
    """A new token for an integration account (the old ones stay until revoked)."""
    from sqlalchemy import select

    from caseflow.access import tokens
    from caseflow.models import User
    from caseflow.requests.lifecycle import Role

    async def work(session: AsyncSession) -> Issued | None:
        account = await session.scalar(select(User).where(User.username == user))
        if account is None or not account.active or account.role != Role.INTEGRATION:
            return None
        secret = get_settings().jwt_secret
        return await tokens.issue(
            session, username=user, role=account.role, secret=secret, label=label
        )

    issued = _run(work)
    if issued is None:
        typer.echo(f"no active integration account '{user}'", err=True)
        raise typer.Exit(2)
    typer.echo(
        f"token id {issued.jti}, until {issued.expires_at:%Y-%m-%d}\nAPI token: {issued.token}"
    )


@tokens_app.command("revoke")
def tokens_revoke(
    jti: str, by: Annotated[str, typer.Option(help="who revokes it")] = "cli"
) -> None:
    """Refuse this token from now on; the account and its other tokens stay."""
    from caseflow.access import tokens

    token = _run(lambda session: tokens.revoke(session, jti, by=by))
    if token is None:
        typer.echo(f"no token {jti}", err=True)
        raise typer.Exit(2)
    typer.echo(f"token {jti} of {token.username} revoked")
