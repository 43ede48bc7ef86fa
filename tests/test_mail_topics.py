"""The topic of a new case from e-mail, chosen by the rules of routing_rules/mail/topics.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from caseflow.mail import topic_rules
from caseflow.payloads import MailFacts
from caseflow.platform.yamlsource import SourceErrors
from caseflow.requests.topics import book_beside

ROOT = Path(__file__).resolve().parent.parent
BOOK = book_beside(ROOT / "routing_rules")


def test_the_shipped_rules_choose_complaints_and_billing() -> None:
    rules = topic_rules.load(ROOT / "routing_rules" / "mail" / topic_rules.FILE, BOOK)
    picked = {
        subject: getattr(topic_rules.chosen(rules, subject, MailFacts()), "topic", None)
        for subject in ("Жалоба на оператора", "Не пришёл счёт за ноябрь", "Вопрос по тарифу")
    }
    assert picked == {
        "Жалоба на оператора": "complaint",
        "Не пришёл счёт за ноябрь": "billing",
        "Вопрос по тарифу": None,  # the mailbox's topic then
    }


def test_a_rule_is_checked_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / topic_rules.FILE
    path.write_text(
        "rules:\n"
        "  - name: cards\n"
        "    when: {subject: {contains: карта}}\n"
        "    topic: card_block\n"  # asks for card_last4: an e-mail cannot give it
        "  - name: nowhere\n"
        "    when: {subject: {contains: x}}\n"
        "    topic: no_such_topic\n"
        "  - name: customer-facts\n"
        "    when: {tier: vip}\n"  # not known before there is a case
        "    topic: complaint\n",
        encoding="utf-8",
    )
    with pytest.raises(SourceErrors) as caught:
        topic_rules.load(path, BOOK)
    said = sorted((e.line, e.reason) for e in caught.value.errors)
    assert said[0][0] == 4 and "card_last4" in said[0][1]
    assert said[1] == (7, "unknown topic 'no_such_topic'")
    assert said[2][0] == 9 and "unknown field 'tier'" in said[2][1]
