"""E-mail templates: Jinja2 files under `email_templates/<event>/`, chosen by topic and locale.

A template is three files sharing a name: `<name>.subject.txt`, `<name>.txt` and, optional,
`<name>.html` (without it the HTML part is the text part, escaped, in `_layout.html`).
For an event, topic and locale the first name that exists wins:

    <event>/<topic>.<locale>  →  <event>/<topic>  →  <event>/default.<locale>  →  <event>/default

Templates run sandboxed, HTML parts are autoescaped, and an undefined variable is an error
(`caseflow templates check` renders every template with sample data for every locale).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_timedelta
from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from caseflow.mail.context import Reader

LOCALES = ("ru", "en")
EVENTS = (
    "request_registered",
    "request_assigned",
    "info_requested",
    "agent_reply",
    "request_resolved",
    "request_closed",
    "sla_breach_supervisor",
    "sla_warning_assignee",
    "sla_breach_assignee",
    "deal_task_overdue",
    "deal_task_reminder",
    "digest",
)


DIGEST_SAMPLE = ("request_registered", "request_assigned")
# Who receives each event's e-mails (customers unless listed): `templates check` renders each
# template for each kind of reader, with only what that reader's e-mails carry.
READERS: dict[str, tuple[Reader, ...]] = {
    "digest": ("customer", "staff"),
    "sla_breach_supervisor": ("staff",),
    "sla_warning_assignee": ("staff",),
    "sla_breach_assignee": ("staff",),
    "deal_task_overdue": ("staff",),
    "deal_task_reminder": ("staff",),
}


def body_of(text: str) -> str:
    """A single e-mail's text without its greeting and sign-off, for a digest."""
    paragraphs = [p for p in text.strip().split("\n\n") if p.strip()]
    return "\n\n".join(paragraphs[1:-1] if len(paragraphs) > 2 else paragraphs)


class TemplateMissing(LookupError):
    pass


@dataclass(frozen=True)
class Rendered:
    template: str
    subject: str
    text: str
    html: str


def candidates(event: str, topic: str | None, locale: str) -> list[str]:
    """Template names to try, most specific first."""
    names = [f"{event}/{topic}.{locale}", f"{event}/{topic}"] if topic else []
    return [*names, f"{event}/default.{locale}", f"{event}/default"]


def _zone(context: Context) -> ZoneInfo:
    return ZoneInfo(context.get("timezone") or "UTC")


def _moment(value: datetime | str) -> datetime:
    """Notices carry times as ISO text (they travel as JSON)."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


@pass_context
def when(context: Context, value: datetime | str | None, form: str = "d MMMM y, HH:mm") -> str:
    """A moment in the reader's time zone and language: `{{ request.due | when }}`."""
    if value is None:
        return "—"
    return format_datetime(
        _moment(value).astimezone(_zone(context)), form, locale=context.get("locale") or "ru"
    )


@pass_context
def day(context: Context, value: datetime | None, form: str = "long") -> str:
    if value is None:
        return "—"
    return format_date(value.astimezone(_zone(context)), form, locale=context.get("locale") or "ru")


@pass_context
def span(context: Context, value: timedelta | float | None) -> str:
    """A duration in words: `{{ clock.target | span }}` → «2 часа»."""
    if value is None:
        return "—"
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return format_timedelta(
        timedelta(seconds=seconds), threshold=1.0, locale=context.get("locale") or "ru"
    )


class MailTemplates:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.env = SandboxedEnvironment(
            loader=FileSystemLoader(directory),
            autoescape=lambda name: bool(name) and name.endswith(".html"),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters.update(when=when, day=day, span=span)

    def choose(self, event: str, topic: str | None, locale: str) -> str:
        for name in candidates(event, topic, locale):
            if (self.directory / f"{name}.txt").is_file():
                return name
        raise TemplateMissing(f"no template for event '{event}' (tried {event}/default.txt)")

    def render(
        self, event: str, topic: str | None, locale: str, context: dict[str, Any]
    ) -> Rendered:
        return self.render_name(self.choose(event, topic, locale), locale, context)

    def render_name(self, name: str, locale: str, context: dict[str, Any]) -> Rendered:
        values = {"locale": locale, **context}
        subject = self.env.get_template(f"{name}.subject.txt").render(values)
        text = self.env.get_template(f"{name}.txt").render(values)
        subject = " ".join(subject.split())
        values["subject"] = subject  # the HTML page's <title>
        try:
            page = self.env.get_template(f"{name}.html")
        except TemplateNotFound:  # the text part, escaped, in the common layout
            page, values = self.env.get_template("_text.html"), {**values, "text": text}
        return Rendered(name, subject, text, page.render(values))

    def digest_items(
        self, singles: list[tuple[str, Rendered, dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        """A digest's items from the single e-mails it replaces: (event, e-mail, values)."""
        return [
            {
                "event": event,
                "subject": rendered.subject,
                "body": body_of(rendered.text),
                "request": values.get("request"),
            }
            for event, rendered, values in singles
        ]

    def sample_digest(
        self, topic: str | None, locale: str, context: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """What a digest of a registration and an assignment would hold, for previews."""
        return self.digest_items(
            [(e, self.render(e, topic, locale, context), context) for e in DIGEST_SAMPLE]
        )

    def names(self) -> list[str]:
        """Every template in the folder, as `<event>/<name>`."""
        return sorted(
            f"{path.parent.name}/{path.name.removesuffix('.txt')}"
            for path in self.directory.glob("*/*.txt")
            if not path.name.endswith(".subject.txt")
        )
