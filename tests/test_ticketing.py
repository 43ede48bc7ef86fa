"""The pure parts of external ticketing: configuration, verdicts on changes, files, senders."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from standardwebhooks.webhooks import Webhook

from caseflow.platform.settings import ROOT
from caseflow.platform.yamlsource import SourceErrors
from caseflow.requests import files
from caseflow.tickets.connectors import ConnectorConfig, ExternalTicket, TicketChange, verdict
from caseflow.tickets.connectors import load as load_ticketing
from caseflow.tickets.webhooks import StaleDelivery, WebhookRefused, authenticate, translate
from tests.conftest import OTRS_TOKEN, otrs_config

EXAMPLE = ROOT / "routing_rules" / "ticketing" / "connectors.example.yaml"
SECRETS = {
    "CASEFLOW_RT_TOKEN": "1-2-abc",
    "CASEFLOW_RT_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "CASEFLOW_OTRS_PASSWORD": "p",
    "CASEFLOW_OTRS_WEBHOOK_TOKEN": "t",
}


def test_the_example_configuration_loads_with_its_secrets_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    book = load_ticketing(EXAMPLE)
    rt, otrs = book.get("rt"), book.get("otrs")
    assert rt is not None and otrs is not None
    assert rt.token is not None and rt.token.get_secret_value() == "1-2-abc"
    assert rt.queue_for("contract_change") == "Billing" and rt.queue_for("other") == "General"
    assert rt.closure_for("contract_change") == "close_case"
    assert otrs.meaning("closed successful", "closed") == "resolved"  # by the state's type
    assert "1-2-abc" not in repr(rt)


def test_a_missing_secret_or_a_bad_connector_names_file_and_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CASEFLOW_RT_TOKEN", raising=False)
    with pytest.raises(SourceErrors, match="CASEFLOW_RT_TOKEN is not set"):
        load_ticketing(EXAMPLE)
    bad = tmp_path / "connectors.yaml"
    bad.write_text(
        "connectors:\n  - name: rt\n    kind: request_tracker\n    base_url: http://x\n"
        "    token: t\n    integration_user: root\n    queues: [General]\n"
        "    topic_queues: {billing: Nowhere}\n    statuses: {resolved: done}\n"
    )
    with pytest.raises(SourceErrors) as caught:
        load_ticketing(bad)
    text = str(caught.value)
    assert "connectors.yaml:" in text and "statuses" in text
    assert load_ticketing(tmp_path / "absent.yaml").connectors == {}


def status(event_id: str, order: float, value: str = "open") -> TicketChange:
    return TicketChange(
        connector="otrs",
        ticket_id="7",
        event_id=event_id,
        order=order,
        kind="status",
        at=datetime.now(UTC),
        status=value,
    )


def test_verdicts_on_changes() -> None:
    ticket = ExternalTicket(connector="otrs", queue="Billing", note="", closure="return_to_line")
    assert ticket.pending and ticket.state == "hand-off pending"
    assert verdict(ticket, status("a", 1)) == "other_ticket"  # no ticket yet
    ticket.ticket_id, ticket.last_order, ticket.seen = "7", 5.0, ["a"]
    assert verdict(ticket, status("a", 9)) == "duplicate"
    assert verdict(ticket, status("b", 4)) == "stale"
    assert verdict(ticket, status("c", 5)) == "stale"
    assert verdict(ticket, status("d", 6)) == "apply"
    ticket.pushed_status = "resolved"
    assert verdict(ticket, status("e", 7, "resolved")) == "echo"
    other = status("f", 8).model_copy(update={"ticket_id": "8"})
    assert verdict(ticket, other) == "other_ticket"


@pytest.mark.parametrize(
    ("name", "kind", "data", "reason"),
    [
        ("a.pdf", "application/pdf", b"MZ\x90\x00", "program"),
        ("a.pdf", "application/pdf", b"<html>", "not"),
        ("a.txt", "text/plain", b"\xff\xfe\x00", "UTF-8"),
        ("a.exe", "application/x-msdownload", b"abc", "program"),
        ("a.bin", "application/x-msdownload", b"abc", "program"),
        ("a.dat", "application/x-msdownload", b"abc", "not accepted"),
        ("big.txt", "text/plain", b"x" * 11, "at most 10"),
        ("", "text/plain", b"x", "name"),
        ("e.txt", "text/plain", b"", "empty"),
    ],
)
def test_files_are_refused_with_the_reason(name: str, kind: str, data: bytes, reason: str) -> None:
    with pytest.raises(files.FileRefused, match=reason):
        files.check(name, kind, data, max_bytes=10)


def test_a_kept_file_is_named_by_its_content() -> None:
    kept = files.check("C:\\scans\\act.pdf", "application/pdf; name=act.pdf", b"%PDF-1.7 x")
    assert kept.filename == "act.pdf" and kept.content_type == "application/pdf"
    assert kept.sha256 == files.check("copy.pdf", "application/pdf", b"%PDF-1.7 x").sha256


def test_senders_are_authenticated_by_token_or_signature() -> None:
    otrs = otrs_config("http://otrs")
    authenticate(otrs, {"authorization": f"Bearer {OTRS_TOKEN}"}, b"{}")
    with pytest.raises(WebhookRefused):
        authenticate(otrs, {"authorization": "Bearer other"}, b"{}")
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    signed = ConnectorConfig.model_validate(
        {**otrs.model_dump(), "kind": "request_tracker", "token": "t", "webhook_secret": secret}
    )
    raw = b'{"a": 1}'
    now = datetime.now(UTC)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign("msg_1", now, raw.decode()),
    }
    authenticate(signed, headers, raw)
    for off in (timedelta(minutes=-6), timedelta(minutes=6)):  # a replay, or a clock ahead
        with pytest.raises(StaleDelivery):
            authenticate(signed, headers, raw, now=now + off)
    for broken in ({**headers, "webhook-signature": "garbage"}, {}, {**headers, "webhook-id": "x"}):
        with pytest.raises(WebhookRefused):
            authenticate(signed, broken, raw)


def test_an_otrs_delivery_becomes_a_change_ordered_by_its_time() -> None:
    config = otrs_config("http://otrs")
    payload = {
        "Event": {"Event": "TicketStateUpdate", "TicketID": "42"},
        "Ticket": {
            "TicketID": "42",
            "State": "closed successful",
            "StateType": "closed",
            "Changed": "2026-11-22 12:00:05",
            "Queue": "Billing",
        },
    }
    change = translate(config, json.loads(json.dumps(payload)))
    assert change is not None and change.kind == "status" and change.meaning == "resolved"
    assert change.event_id == "42:TicketStateUpdate:2026-11-22 12:00:05"
    later = {**payload, "Ticket": {**payload["Ticket"], "Changed": "2026-11-22 12:00:06"}}
    later_change = translate(config, later)
    assert later_change is not None and later_change.order > change.order
    with pytest.raises(ValidationError):
        translate(config, {"Event": {"Event": "x"}})
