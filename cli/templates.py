"""`caseflow templates`: check and preview e-mail templates."""

from __future__ import annotations

from pathlib import Path

import typer

from caseflow.platform.settings import get_settings

templates_app = typer.Typer(help="E-mail templates.", no_args_is_help=True)


@templates_app.command("check")
def templates_check(directory: Path | None = None) -> None:
    """Render every e-mail template with sample data for every locale; fail on any error."""
    from jinja2 import TemplateError

    from caseflow.mail.context import sample_context
    from caseflow.mail.templates import LOCALES, READERS, MailTemplates, TemplateMissing

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
    from caseflow.mail.context import sample_context
    from caseflow.mail.templates import READERS, MailTemplates, TemplateMissing
    from caseflow.requests.topics import book_beside

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
