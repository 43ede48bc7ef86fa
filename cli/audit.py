"""`caseflow audit`: check the hash chain of the audit log."""

from __future__ import annotations

import asyncio

import typer

audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify() -> None:
    """Walk every day's chain; name the first edited, added or removed entry (exit 1)."""
    from caseflow import audit
    from cli.common import _in_transaction

    checked, finding = asyncio.run(_in_transaction(audit.verify))
    if finding is not None:
        typer.echo(f"audit log broken after {checked} good entries: {finding}", err=True)
        raise typer.Exit(1)
    typer.echo(f"audit log intact: {checked} entries")
