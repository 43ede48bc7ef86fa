"""The console's languages: English (the messages as written) and Russian (`locale/ru.po`),
chosen per person (their `locale`, else the deployment's `default_locale`).

Templates call the underscore function on each message; Python code marks its own words
with `N_` where they are defined and the templates translate them when shown.
`tests/test_console_i18n.py` fails when a marked message has no Russian translation.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from babel.messages.pofile import read_po

from caseflow.models import User

HERE = Path(__file__).resolve().parent
LANGUAGES = {"ru": "Русский", "en": "English"}
Translate = Callable[[str], str]


def N_(message: str) -> str:
    """Marks a message for translation where it is defined; `_` translates it when shown."""
    return message


def catalog(language: str) -> dict[str, str]:
    """msgid → msgstr of a language's catalog (English: only the words for codes such as
    `in_progress`; its other messages are English as written)."""
    path = HERE / "locale" / f"{language}.po"
    if not path.exists():
        return {}
    with path.open("rb") as source:
        read = read_po(source, locale=language)
    return {str(m.id): str(m.string) for m in read if m.id and m.string}


CATALOGS = {language: catalog(language) for language in LANGUAGES}


def language_of(user: User | None, default: str) -> str:
    chosen = (user.locale if user is not None else None) or default
    return chosen if chosen in LANGUAGES else "en"


def translator(language: str) -> Translate:
    messages = CATALOGS.get(language, {})

    def translate(message: str) -> str:
        return messages.get(message) or message

    return translate
