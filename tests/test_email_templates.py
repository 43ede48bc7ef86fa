"""E-mail templates: lookup by topic and locale, strictness, escaping, personalisation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from jinja2 import UndefinedError
from jinja2.exceptions import SecurityError
from typer.testing import CliRunner

from caseflow.mail.context import salutation, sample_context
from caseflow.mail.templates import MailTemplates, TemplateMissing
from caseflow.platform.settings import ROOT
from cli.main import app

SHIPPED = MailTemplates(ROOT / "email_templates")


def write(folder: Path, name: str, text: str = "{{ customer.name }}") -> None:
    for suffix, body in ((".subject.txt", name), (".txt", text)):
        path = folder / f"{name}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "_layout.html").write_text("{% block body %}{% endblock %}")
    (tmp_path / "_text.html").write_text(
        '{% extends "_layout.html" %}{% block body %}<p>{{ text }}</p>{% endblock %}'
    )
    return tmp_path


def test_lookup_goes_from_topic_and_locale_to_the_default(folder: Path) -> None:
    templates = MailTemplates(folder)
    write(folder, "request_resolved/default")
    assert templates.choose("request_resolved", "billing", "en") == "request_resolved/default"
    write(folder, "request_resolved/default.en")
    assert templates.choose("request_resolved", "billing", "en") == "request_resolved/default.en"
    assert templates.choose("request_resolved", "billing", "ru") == "request_resolved/default"
    write(folder, "request_resolved/billing")
    assert templates.choose("request_resolved", "billing", "en") == "request_resolved/billing"
    write(folder, "request_resolved/billing.en")
    assert templates.choose("request_resolved", "billing", "en") == "request_resolved/billing.en"
    assert templates.choose("request_resolved", None, "en") == "request_resolved/default.en"
    with pytest.raises(TemplateMissing):
        templates.choose("request_closed", "billing", "en")


def test_a_missing_variable_is_an_error_not_a_gap(folder: Path) -> None:
    write(folder, "request_closed/default", "{{ customer.nmae }}")
    with pytest.raises(UndefinedError):
        MailTemplates(folder).render("request_closed", None, "ru", {"customer": {"name": "A"}})


def test_html_is_escaped_and_text_is_not(folder: Path) -> None:
    write(folder, "request_closed/default", "{{ customer.name }}")
    (folder / "request_closed/default.html").write_text("<b>{{ customer.name }}</b>")
    rendered = MailTemplates(folder).render(
        "request_closed", None, "ru", {"customer": {"name": "<script>x</script>"}}
    )
    assert rendered.text == "<script>x</script>"
    assert rendered.html == "<b>&lt;script&gt;x&lt;/script&gt;</b>"
    (folder / "request_closed/default.html").unlink()
    plain = MailTemplates(folder).render(
        "request_closed", None, "ru", {"customer": {"name": "<i>"}}
    )
    assert plain.html == "<p>&lt;i&gt;</p>"  # the text part, escaped, in the layout


def test_sandbox_refuses_unsafe_attributes(folder: Path) -> None:
    write(folder, "request_closed/default", "{{ customer.__class__.__mro__ }}")
    with pytest.raises(SecurityError):
        MailTemplates(folder).render("request_closed", None, "ru", {"customer": {}})


@pytest.mark.parametrize(
    ("locale", "form", "gender", "name", "expected"),
    [
        ("ru", "formal", "male", "Иван Петрович", "Уважаемый Иван Петрович!"),
        ("ru", "formal", "female", "Анна Сергеевна", "Уважаемая Анна Сергеевна!"),
        ("ru", "formal", None, "Саша", "Здравствуйте, Саша!"),
        ("ru", "informal", "female", "Анна", "Здравствуйте, Анна!"),
        ("ru", "formal", None, None, "Уважаемые коллеги!"),
        ("en", "formal", "female", "Ms Smith", "Dear Ms Smith,"),
        ("en", "informal", None, "Anna", "Hi Anna,"),
        ("en", "formal", None, None, "Dear colleagues,"),
    ],
)
def test_salutation(locale, form, gender, name, expected) -> None:
    assert salutation(locale, name=name, form=form, gender=gender) == expected


def test_dates_are_in_the_readers_zone_and_language() -> None:
    context = sample_context("request_assigned", "ru")
    context["request"]["resolution_due"] = datetime(2026, 11, 20, 21, 30, tzinfo=UTC)
    context["timezone"] = "Asia/Vladivostok"  # UTC+10: already the next morning there
    russian = SHIPPED.render("request_assigned", None, "ru", context)
    assert "21 ноября 2026, 07:30" in russian.text
    context["timezone"] = "Europe/London"
    english = SHIPPED.render(
        "request_assigned", None, "en", sample_context("request_assigned", "en")
    )
    assert "20 November 2026" in english.text


def test_every_shipped_template_renders_and_preview_prints_one(tmp_path: Path) -> None:
    runner = CliRunner()
    checked = runner.invoke(app, ["templates", "check"])
    assert checked.exit_code == 0, checked.output
    page = tmp_path / "mail.html"
    shown = runner.invoke(
        app,
        [
            *("templates", "preview", "request_registered"),
            *("--topic", "card_block", "--locale", "en", "--html", str(page)),
        ],
    )
    assert shown.exit_code == 0, shown.output
    assert "Template: request_registered/card_block.en" in shown.output
    assert "Dear John," in shown.output
    assert page.read_text().startswith("<!DOCTYPE html>")
    subject = shown.output.split("Subject: ")[1].splitlines()[0]
    assert f"<title>{subject}</title>" in page.read_text()


def test_preview_names_the_topic_asked_for() -> None:
    shown = CliRunner().invoke(
        app, ["templates", "preview", "request_registered", "--topic", "tariff_change"]
    )
    assert shown.exit_code == 0, shown.output
    assert "«Смена тарифа»" in shown.output and "Блокировка карты" not in shown.output
    unknown = CliRunner().invoke(
        app, ["templates", "preview", "request_registered", "--topic", "tarif"]
    )
    assert unknown.exit_code == 2 and "no topic 'tarif'" in unknown.output


def test_preview_of_a_digest_shows_the_emails_it_stands_for() -> None:
    shown = CliRunner().invoke(
        app, ["templates", "preview", "digest", "--topic", "consultation", "--locale", "en"]
    )
    assert shown.exit_code == 0, shown.output
    assert "…" not in shown.output
    assert "registered it as REQ-000123" in shown.output  # the registration's body
    assert "is working on your request REQ-000123" in shown.output  # the assignment's


def test_check_fails_on_a_broken_template(folder: Path) -> None:
    write(folder, "request_closed/default", "{{ request.numbr }}")
    result = CliRunner().invoke(app, ["templates", "check", "--directory", str(folder)])
    assert result.exit_code == 1
    assert "request_closed/default (ru, customer): UndefinedError" in result.output
