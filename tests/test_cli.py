"""The caseflow command: users and integration tokens, rules check, refusing bad rules at start."""

from __future__ import annotations

import asyncio
import logging
import shutil
from email.message import EmailMessage

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from caseflow.platform.settings import get_settings
from cli.mail_catcher import Keep, kept
from cli.main import app
from tests.conftest import free_port

runner = CliRunner()


@pytest.fixture
def cli_env(monkeypatch, settings):
    monkeypatch.setenv("CASEFLOW_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def test_integration_account_gets_a_working_token(cli_env, engine, http) -> None:
    # The CLI runs its own event loop, so it runs in a thread here.
    result = await asyncio.to_thread(
        runner.invoke, app, ["users", "create", "crm-bridge", "--role", "integration"]
    )
    assert result.exit_code == 0, result.output
    token = result.output.split("API token: ")[1].strip()
    answer = await http.get("/api/v1/requests", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    forged = await http.get("/api/v1/requests", headers={"Authorization": f"Bearer {token}x"})
    assert forged.status_code == 401


def test_unknown_role_and_team_are_refused(cli_env, engine) -> None:
    assert runner.invoke(app, ["users", "create", "x", "--role", "wizard"]).exit_code == 2
    result = runner.invoke(app, ["users", "create", "x", "--role", "agent", "--team", "nope"])
    assert result.exit_code == 2 and "nope" in result.output


def test_rules_check(tmp_path) -> None:
    good = runner.invoke(app, ["rules", "check"])
    assert good.exit_code == 0 and "rules OK" in good.output
    assert "4 SLA policies OK" in good.output
    assert "survivorship OK" in good.output
    assert "4 segments, 2 offers OK" in good.output
    (tmp_path / "10.yaml").write_text(
        "defaults: {L1: a, L2: b, L3: c}\nrules:\n  - name: x\n"
        "    when: {planet: mars}\n    target: {line: L1}\n"
    )
    bad = runner.invoke(app, ["rules", "check", "--directory", str(tmp_path)])
    assert bad.exit_code == 1 and "10.yaml:4" in bad.output and "planet" in bad.output


def test_worker_refuses_to_start_on_bad_rules(monkeypatch, tmp_path) -> None:
    (tmp_path / "00.yaml").write_text("defaults: {L1: a, L2: b, L3: c}\nrules: [{name: x}]\n")
    monkeypatch.setenv("CASEFLOW_ROUTING_RULES_DIR", str(tmp_path))
    monkeypatch.setenv("CASEFLOW_TEMPORAL_ADDRESS", "127.0.0.1:1")
    get_settings.cache_clear()
    handlers = logging.getLogger().handlers[:]
    try:
        result = runner.invoke(app, ["worker"])
    finally:
        get_settings.cache_clear()
        logging.getLogger().handlers[:] = handlers  # the worker logs to the runner's stream
    assert result.exit_code == 1
    assert "00.yaml:2" in result.output and "target" in result.output


async def test_the_mail_catcher_refuses_a_dead_mailbox_and_keeps_the_rest(tmp_path) -> None:
    """The demo's failed e-mail: an `.invalid` address is refused with 550, as a real
    server refuses a mailbox that does not exist; every other message is kept."""
    port = free_port()
    controller = Controller(Keep(tmp_path), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        message = EmailMessage()
        message["From"], message["Subject"] = "caseflow@example.org", "Ваше обращение"
        message.set_content("Здравствуйте")
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
            await aiosmtplib.send(
                message, hostname="127.0.0.1", port=port, recipients=["old@closed.invalid"]
            )
        assert refused.value.recipients[0].code == 550
        await aiosmtplib.send(
            message, hostname="127.0.0.1", port=port, recipients=["anna@example.com"]
        )
    finally:
        controller.stop()
    assert [m.message["Subject"] for m in kept(tmp_path)] == ["Ваше обращение"]


def test_rules_check_refuses_a_wrong_survivorship_file(tmp_path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree("routing_rules", rules)
    (rules / "profile" / "survivorship.yaml").write_text(
        "sources: [call_centre]\nrules:\n  - fields: [name]\n    strategy: union\n"
    )
    result = runner.invoke(app, ["rules", "check", "--directory", str(rules)])
    assert result.exit_code == 1
    assert "survivorship.yaml:3:" in result.output and "union" in result.output


def test_segments_count_lists_each_segment(cli_env, engine) -> None:
    result = runner.invoke(app, ["segments", "count"])
    assert result.exit_code == 0, result.output
    assert "fuel_cards_without_telematics" in result.output
    assert "complained_lately" in result.output
