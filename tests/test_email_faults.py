"""Sending is exactly-once and honest about failures: real servers that misbehave on purpose
(Postfix's smtp-sink), a real one that works (aiosmtpd), the outbox in PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from temporalio.exceptions import ApplicationError

from activities.notifications import NotificationActivities, message_id_of
from caseflow.mail.context import Batch, Notice
from caseflow.mail.smtp import SmtpConfig
from caseflow.mail.templates import MailTemplates
from caseflow.models import Notification
from caseflow.platform.settings import ROOT
from caseflow.requests.topics import load as load_topics
from cli.devstack import wait_for_port
from tests.conftest import free_port
from tests.mailbox import text_of
from tests.test_email import new_customer, register

TEMPLATES = MailTemplates(ROOT / "email_templates")
TOPICS = load_topics(ROOT / "routing_rules" / "topics" / "topics.yaml")


@pytest.fixture
def sink(request) -> Iterator[int]:
    """smtp-sink answering the named command with the given class of error; its port."""
    port = free_port()
    flag = request.param  # "-r" 4xx (retry later), "-f" 5xx (refused)
    binary = shutil.which("smtp-sink")
    assert binary, "smtp-sink is missing: scripts/ensure-smtp-sink installs it"
    process = subprocess.Popen([binary, "-u", "nobody", flag, "RCPT", f"127.0.0.1:{port}", "10"])
    try:
        wait_for_port(port)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def sender(sessions, port: int) -> NotificationActivities:
    return NotificationActivities(sessions, TEMPLATES, SmtpConfig("127.0.0.1", port), TOPICS)


async def resolved_batch(http, tokens) -> tuple[Batch, str]:
    customer, email = await new_customer(http, tokens, address_name="Анна", gender="female")
    created = await register(http, tokens, customer)
    now = datetime.now(UTC)
    notice = Notice(
        key=f"test:{uuid.uuid4()}",
        event="request_resolved",
        request_id=created["id"],
        topic="consultation",
        at=now,
        data={"message": "Тариф сменён"},
    )
    return Batch(recipient_key=f"customer:{customer}", notices=[notice], batched_at=now), email


async def row_of(sessions, batch: Batch) -> Notification:
    async with sessions() as session:
        row = await session.get(Notification, message_id_of(batch, SmtpConfig("", 0).reply_domain))
    assert row is not None
    return row


@pytest.mark.parametrize("sink", ["-r"], indirect=True)
async def test_retry_later_keeps_the_rendered_mail_and_sends_it_once(
    http, tokens, sessions, mailbox, sink: int
) -> None:
    batch, email = await resolved_batch(http, tokens)
    with pytest.raises(ApplicationError) as failure:
        await sender(sessions, sink).send_notification(batch)
    assert failure.value.type == "smtp_temporary" and not failure.value.non_retryable
    row = await row_of(sessions, batch)
    assert (row.status, row.attempts) == ("pending", 1) and "450" in (row.error or "")
    assert row.handed_at is None  # the server answered: nothing in doubt
    assert row.subject and "решено" in row.subject  # rendered before the first try

    # The retry (or a restarted worker) finds the outbox row and sends what was rendered.
    healthy = sender(sessions, mailbox.port)
    first = await healthy.send_notification(batch)
    again = await healthy.send_notification(batch)
    assert (first.status, again.status) == ("sent", "sent")
    resolved = [m for m in mailbox.to(email) if m["Message-ID"] == row.message_id]
    assert len(resolved) == 1
    row = await row_of(sessions, batch)
    assert (row.status, row.error, row.handed_at) == ("sent", None, None)


class Killed(BaseException):
    """The worker's process dying: nothing after it runs (no handler catches it)."""


class CutOffAfterHandover(NotificationActivities):
    """A worker killed between the SMTP server's 250 and writing down "sent"."""

    async def _update(self, message_id: str, **values) -> None:
        if values.get("status") == "sent":
            raise Killed
        await super()._update(message_id, **values)


async def test_an_attempt_cut_off_mid_send_is_sent_again_and_the_row_says_so(
    http, tokens, sessions, mailbox
) -> None:
    """SMTP has no way to ask whether a message arrived: a retry after an attempt that died
    with the e-mail handed over sends it again (same Message-ID, which mail programs show
    once), and the outbox says the customer may hold two copies — while a retry after an
    answer the server gave (4xx) is not in doubt."""
    batch, email = await resolved_batch(http, tokens)
    with pytest.raises(Killed):
        await CutOffAfterHandover(
            sessions, TEMPLATES, SmtpConfig("127.0.0.1", mailbox.port), TOPICS
        ).send_notification(batch)
    row = await row_of(sessions, batch)
    assert (row.status, row.handed_at is not None, row.error) == ("pending", True, None)

    retried = await sender(sessions, mailbox.port).send_notification(batch)
    assert retried.status == "sent"
    copies = [m for m in mailbox.to(email) if m["Message-ID"] == row.message_id]
    assert len(copies) == 2 and copies[0]["Subject"] == copies[1]["Subject"]
    row = await row_of(sessions, batch)
    assert (row.status, row.attempts, row.handed_at) == ("sent", 2, None)
    assert row.error and "cut off" in row.error
    on_case = await http.get(
        f"/api/v1/requests/{batch.notices[0].request_id}/notifications",
        headers=tokens["supervisor"],
    )
    (seen,) = [n for n in on_case.json()["items"] if n["message_id"] == row.message_id]
    assert "cut off" in (seen["error"] or "")


@pytest.mark.parametrize("sink", ["-f"], indirect=True)
async def test_refusal_marks_the_mail_failed_for_the_case_and_supervisor(
    http, tokens, sessions, sink: int
) -> None:
    batch, _ = await resolved_batch(http, tokens)
    with pytest.raises(ApplicationError) as failure:
        await sender(sessions, sink).send_notification(batch)
    assert failure.value.type == "smtp_refused" and failure.value.non_retryable
    row = await row_of(sessions, batch)
    assert row.status == "failed" and (row.error or "").startswith("5")
    request_id = batch.notices[0].request_id
    on_case = await http.get(
        f"/api/v1/requests/{request_id}/notifications", headers=tokens["supervisor"]
    )
    statuses = {n["message_id"]: n["status"] for n in on_case.json()["items"]}
    assert statuses[row.message_id] == "failed"
    failed = await http.get("/api/v1/supervisor/notifications", headers=tokens["supervisor"])
    assert row.message_id in {n["message_id"] for n in failed.json()["items"]}
    assert (
        await http.get("/api/v1/supervisor/notifications", headers=tokens["operator"])
    ).status_code == 403


async def test_server_down_is_retried_and_given_up_honestly(http, tokens, sessions) -> None:
    batch, _ = await resolved_batch(http, tokens)
    nobody = sender(sessions, free_port())
    with pytest.raises(ApplicationError) as failure:
        await nobody.send_notification(batch)
    assert failure.value.type == "smtp_temporary"
    # The notifier's retries ran out: it says so, and the row shows it.
    await nobody.notification_failed(batch)
    assert (await row_of(sessions, batch)).status == "failed"


CLOCK = {"kind": "first_response", "line": "L1", "target": 7200.0, "policy": "standard"}


async def test_breaches_batched_for_a_supervisor_are_one_email_sent_once(
    http, tokens, sessions, mailbox
) -> None:
    """A notifier from before per-request e-mails may still batch several breaches for one
    supervisor: the staff digest renders (it once needed a customer) and goes out once."""
    customer, _ = await new_customer(http, tokens)
    now = datetime.now(UTC)
    notices = []
    for _ in range(3):
        created = await register(http, tokens, customer)
        notices.append(
            Notice(
                key=f"test:{uuid.uuid4()}:supervisor",
                event="sla_breach_supervisor",
                request_id=created["id"],
                importance="critical",
                at=now,
                data={"clock": CLOCK, "assignee": created["assignee"]},
            )
        )
    batch = Batch(recipient_key="user:supervisor", notices=notices, batched_at=now)
    sent = sender(sessions, mailbox.port)
    assert (await sent.send_notification(batch)).status == "sent"
    assert (await sent.send_notification(batch)).status == "sent"  # a retry sends nothing more
    # Earlier tests' requests may have mailed the supervisor too: this batch's e-mail is
    # the one with its Message-ID.
    ours = message_id_of(batch, SmtpConfig("", 0).reply_domain)
    (message,) = [
        m
        for m in await mailbox.wait_for("supervisor@caseflow.local", seconds=5)
        if m["Message-ID"] == ours
    ]
    assert message["Subject"] == "Обращения: обновления (3)"
    text = text_of(message)
    assert text.startswith("Здравствуйте, ") and text.rstrip().endswith("Caseflow")
    assert text.count("истёк срок первого ответа") == 3
    row = await row_of(sessions, batch)
    assert (row.status, row.attempts) == ("sent", 1)


@pytest.mark.parametrize("sink", ["-f"], indirect=True)
async def test_a_failed_email_is_sent_again_by_a_supervisor(
    http, tokens, sessions, mailbox, sink: int
) -> None:
    batch, email = await resolved_batch(http, tokens)
    with pytest.raises(ApplicationError):
        await sender(sessions, sink).send_notification(batch)  # refused: failed
    row = await row_of(sessions, batch)
    assert row.status == "failed"
    url = f"/api/v1/supervisor/notifications/{quote(row.message_id, safe='')}/resend"
    assert (await http.post(url, headers=tokens["operator"])).status_code == 403
    again = await http.post(url, headers=tokens["supervisor"])
    assert again.status_code == 202, again.text
    for _ in range(100):  # the session worker's relay takes it, under its own Message-ID
        again_sent = [m for m in mailbox.to(email) if m["Message-ID"] == row.message_id]
        if again_sent:
            break
        await asyncio.sleep(0.1)
    assert len(again_sent) == 1
    for _ in range(50):
        row = await row_of(sessions, batch)
        if row.status == "sent":
            break
        await asyncio.sleep(0.1)
    assert (row.status, row.attempts) == ("sent", 2)
    done = await http.post(url, headers=tokens["supervisor"])
    assert done.status_code == 409 and done.json()["code"] == "not_failed"


@pytest.mark.parametrize("sink", ["-f"], indirect=True)
async def test_caseflow_mail_resend_sends_the_failed_again(
    http, tokens, sessions, mailbox, settings, dev_env, sink: int
) -> None:
    since = datetime.now(UTC)
    batch, email = await resolved_batch(http, tokens)
    with pytest.raises(ApplicationError):
        await sender(sessions, sink).send_notification(batch)
    row = await row_of(sessions, batch)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEFLOW_")}
    env |= {
        "CASEFLOW_DATABASE_URL": settings.database_url,
        "CASEFLOW_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "CASEFLOW_TASK_QUEUE": settings.task_queue,
    }
    command = [sys.executable, "-m", "cli", "mail", "resend", "--failed"]
    done = await asyncio.to_thread(
        subprocess.run,
        [*command, "--since", since.isoformat()],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "queued to be sent again" in done.stdout
    for _ in range(100):
        again = [m for m in mailbox.to(email) if m["Message-ID"] == row.message_id]
        if again:
            break
        await asyncio.sleep(0.1)
    assert len(again) == 1
