"""`caseflow mail`: read what the development mail catcher of `make run` caught, decoded."""

from __future__ import annotations

from pathlib import Path

import typer

from caseflow.mail_catcher import kept

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
