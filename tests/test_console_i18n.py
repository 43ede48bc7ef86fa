"""The console speaks Russian and English, chosen per person: every message it shows has
its Russian translation, and a person's choice holds in every browser they sign in from."""

from __future__ import annotations

import re
from pathlib import Path

from api.actions import BODIES
from caseflow.requests.lifecycle import Role, State
from console.i18n import CATALOGS, translator
from tests.console_client import browser, csrf_of, sign_in

CONSOLE = Path(__file__).resolve().parent.parent / "console"
MARKED = [
    re.compile(r'_\("((?:[^"\\]|\\.)*)"\)'),
    re.compile(r"_\('((?:[^'\\]|\\.)*)'\)"),
]


def marked_messages() -> set[str]:
    found: set[str] = set()
    for path in [*CONSOLE.glob("templates/*.html"), *CONSOLE.glob("*.py")]:
        text = path.read_text(encoding="utf-8")
        for pattern in MARKED:
            found |= {m.replace('\\"', '"') for m in pattern.findall(text)}
    return found


def test_every_marked_message_has_its_russian() -> None:
    messages = marked_messages()
    assert len(messages) > 150  # the extraction itself works
    assert sorted(messages - set(CATALOGS["ru"])) == []


def test_the_values_a_page_shows_have_their_russian() -> None:
    """States, actions, roles, priorities: shown translated, never as codes."""
    shown = {s.value for s in State} | set(BODIES) | {r.value for r in Role}
    shown |= {"low", "normal", "high", "critical", "first_response", "resolution"}
    shown |= {"available", "away", "off"}
    assert sorted(shown - set(CATALOGS["ru"])) == []


async def test_a_person_chooses_the_language_and_keeps_it(caseflow_app) -> None:
    async with browser(caseflow_app) as first:
        await sign_in(first, "agent2-junior")
        page = await first.get("/queue")
        assert '<html lang="ru">' in page.text and ">Очереди<" in page.text  # the default
        chosen = await first.post(
            "/me/language",
            data={"language": "en", "next": "/queue", "csrftoken": csrf_of(page)},
        )
        assert chosen.status_code == 303
        page = await first.get("/queue")
        assert '<html lang="en">' in page.text and ">Queues<" in page.text
    async with browser(caseflow_app) as second:  # another browser: still English
        await sign_in(second, "agent2-junior")
        page = await second.get("/queue")
        assert '<html lang="en">' in page.text
        back = await second.post(
            "/me/language", data={"language": "ru", "csrftoken": csrf_of(page)}
        )
        assert back.status_code == 303
        nonsense = await second.post(
            "/me/language", data={"language": "xx", "csrftoken": csrf_of(page)}
        )
        assert nonsense.status_code == 422
        assert ">Очереди<" in (await second.get("/queue")).text


def test_english_shows_words_not_codes() -> None:
    """A state or a clock is a code in the data (`waiting_customer`); people read words."""
    english = translator("en")
    assert english("waiting_customer") == "waiting for the customer"
    assert english("in_progress") == "in progress"
    assert english("first_response") == "first response"
    assert english("Queues") == "Queues"  # the rest is English as written
