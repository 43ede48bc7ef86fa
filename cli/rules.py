"""`caseflow rules`: check, reload and try routing rules."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.platform.settings import get_settings
from caseflow.platform.yamlsource import SourceErrors
from cli.common import _in_transaction, _rule_errors

rules_app = typer.Typer(help="Routing rules.", no_args_is_help=True)


@rules_app.command("check")
def rules_check(directory: Path | None = None) -> None:
    """Validate the routing rules and the SLA policies and pipelines beside them."""
    from caseflow.customers import segments, survivorship
    from caseflow.deals import pipelines
    from caseflow.mail import mailboxes, topic_rules
    from caseflow.requests.topics import book_beside
    from caseflow.routing import rules as routing
    from caseflow.sla import policies as sla

    rules_dir = directory or get_settings().routing_rules_dir
    try:
        book = routing.load(rules_dir)
        policies = sla.load(rules_dir / "sla") if (rules_dir / "sla").is_dir() else None
        profile = survivorship.load(rules_dir / "profile" / "survivorship.yaml")
        catalogue = segments.load(rules_dir / "profile")
        boxes = mailboxes.load(rules_dir / "mail" / "mailboxes.yaml")
        mail_topics = topic_rules.load(
            rules_dir / "mail" / topic_rules.FILE, book_beside(rules_dir)
        )
    except SourceErrors as exc:
        _rule_errors(exc)
    typer.echo(
        f"{len(book.rules)} rules OK; defaults: "
        + ", ".join(f"{k}→{v}" for k, v in book.defaults.items())
    )
    typer.echo(f"survivorship OK: {len(profile.rules)} field rules, sources {profile.sources}")
    typer.echo(f"{len(catalogue.segments)} segments, {len(catalogue.offers)} offers OK")
    typer.echo(f"{len(boxes)} mailboxes OK" + "".join(f" · {b.name}" for b in boxes))
    typer.echo(f"{len(mail_topics)} e-mail topic rules OK")
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
    from caseflow.people.store import team_codes
    from caseflow.routing import rules as routing
    from caseflow.routing import state as rules_state

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
    from caseflow.people.store import team_codes
    from caseflow.requests.topics import book_beside
    from caseflow.routing import rules as routing
    from caseflow.routing import whatif
    from caseflow.routing.samples import recent_intakes

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
