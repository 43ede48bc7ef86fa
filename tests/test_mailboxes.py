"""Mailboxes read over IMAP, against a real Dovecot (Debian's package, started on a free
loopback port with a throw-away configuration): new mail becomes a case and leaves the
inbox; the same mail again makes nothing new; a reply with a file lands on its case; a
reader stopped between the case and the move leaves exactly one case; the mailbox's poller
is a workflow on the worker, and IDLE brings mail at once."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from imapclient import IMAPClient
from sqlalchemy import func, select
from temporalio.service import RPCError, RPCStatusCode

import worker as worker_module
from api.inbound_mail import Intake
from caseflow.mail import imap as imap_module
from caseflow.mail.imap import Connection, look
from caseflow.mail.mailbox_terms import MailboxTerms
from caseflow.mail.mailboxes import Mailbox, load
from caseflow.models import InboundMessage, Request, RequestEvent, RequestFile
from caseflow.platform.yamlsource import SourceErrors
from cli.mail_gateway import Receive
from tests.conftest import capture_history, free_port
from tests.test_inbound_mail import customer_with_case, letter, waiting

PEER = Path(__file__).resolve().parents[1] / "scripts" / "dovecot"
API = "/api/v1"


@pytest.fixture(scope="module")
def imap() -> Iterator[int]:
    port = free_port()
    # Dovecot's processes run as nobody: its state needs a path they may walk (not pytest's).
    state = Path(tempfile.mkdtemp(prefix="caseflow-dovecot-"))
    os.chmod(state, 0o755)
    env = {**os.environ, "DOVECOT_STATE": str(state)}
    with (state / "peer.log").open("w") as log:  # the server keeps no pipe of ours open

        def peer(*args: str, check: bool = True) -> None:
            subprocess.run(
                [str(PEER), *args], env=env, stdout=log, stderr=subprocess.STDOUT,
                timeout=60, check=check,
            )  # fmt: skip

        peer("start", str(port))
        peer("user", "support", "secret")
        try:
            yield port
        finally:
            peer("stop", check=False)
            shutil.rmtree(state, ignore_errors=True)


def box(port: int) -> Mailbox:
    return Mailbox(
        name="support", host="127.0.0.1", port=port, tls=False, username="support",
        password="${CASEFLOW_TEST_IMAP_PASSWORD}", serves="support@caseflow.local",
        every=timedelta(seconds=1),
    )  # fmt: skip


@pytest.fixture(autouse=True)
def secret(monkeypatch) -> None:
    monkeypatch.setenv("CASEFLOW_TEST_IMAP_PASSWORD", "secret")


def append(port: int, raw: bytes, folder: str = "INBOX") -> None:
    with IMAPClient("127.0.0.1", port=port, ssl=False) as client:
        client.login("support", "secret")
        if not client.folder_exists(folder):
            client.create_folder(folder)
        client.append(folder, raw)


def counts(port: int) -> tuple[int, int]:
    """Messages in the inbox and in the processed folder."""
    with IMAPClient("127.0.0.1", port=port, ssl=False) as client:
        client.login("support", "secret")
        found = []
        for folder in ("INBOX", "Caseflow.Processed"):  # Dovecot's Maildir hierarchy
            if not client.folder_exists(folder):
                found.append(0)
                continue
            client.select_folder(folder)
            found.append(len(client.search(["NOT", "DELETED"])))
        return found[0], found[1]


async def cases_of(sessions, key: str) -> int:
    async with sessions() as db:
        rows = await db.scalars(
            select(InboundMessage.request_id).where(InboundMessage.message_key == key)
        )
        ids = {r for r in rows if r}
        return int(
            await db.scalar(select(func.count()).select_from(Request).where(Request.id.in_(ids)))
            or 0
        )


def key_of(raw: bytes) -> str:
    from caseflow.mail.inbound import read

    return read(raw).key


async def filed(state, *boxes: Mailbox) -> None:
    """What was kept and not filed, filed as the mail gateway's sweep does."""
    intakes = {imap_module.via(b.name): Intake(topic=b.topic, region=b.region, segment=b.segment)
               for b in boxes}  # fmt: skip
    gateway = Receive(state, "lmtp", Intake(), intakes)
    await gateway.sweep()
    await gateway.settle()


async def test_new_mail_becomes_one_case_and_leaves_the_inbox(caseflow_app, sessions, imap):
    state = caseflow_app.state.caseflow
    sender = f"imap-{uuid.uuid4().hex[:8]}@customer.example"
    raw = letter(sender, "Письмо в ящик", "Здравствуйте, вопрос по договору")
    await asyncio.to_thread(append, imap, raw)
    connection = await asyncio.to_thread(Connection.open, box(imap))
    try:
        before = (await asyncio.to_thread(counts, imap))[1]
        assert await look(sessions, connection) == 1
        await filed(state, box(imap))
        assert await cases_of(sessions, key_of(raw)) == 1
        assert await asyncio.to_thread(counts, imap) == (0, before + 1)
        async with sessions() as db:
            row = await db.scalar(
                select(InboundMessage).where(InboundMessage.message_key == key_of(raw))
            )
            assert row is not None and row.via == "imap:support" and row.kind == "new"
        await asyncio.to_thread(append, imap, raw)  # the same mail again
        assert await look(sessions, connection) == 1
        await filed(state, box(imap))
        assert await cases_of(sessions, key_of(raw)) == 1
        assert await asyncio.to_thread(counts, imap) == (0, before + 2)
    finally:
        await asyncio.to_thread(connection.close)


async def test_a_reader_stopped_before_moving_leaves_one_case(caseflow_app, sessions, imap):
    state = caseflow_app.state.caseflow
    raw = letter(f"crash-{uuid.uuid4().hex[:8]}@customer.example", "Сбой", "Текст")
    await asyncio.to_thread(append, imap, raw)

    async def crash(_: int) -> None:
        await filed(state, box(imap))  # the case is registered…
        raise RuntimeError("the reader stops here: the case made, the mail not moved")

    first = await asyncio.to_thread(Connection.open, box(imap))
    with pytest.raises(RuntimeError):
        await look(sessions, first, kept=crash)
    await asyncio.to_thread(first.close)
    assert (await asyncio.to_thread(counts, imap))[0] == 1  # still in the inbox
    assert await cases_of(sessions, key_of(raw)) == 1
    again = await asyncio.to_thread(Connection.open, box(imap))
    try:
        assert await look(sessions, again) == 1
    finally:
        await asyncio.to_thread(again.close)
    await filed(state, box(imap))
    assert await cases_of(sessions, key_of(raw)) == 1
    assert (await asyncio.to_thread(counts, imap))[0] == 0


def test_the_poller_carries_no_secret_in_its_history() -> None:
    """The workflow's input names the secret (`${ENV}`); the worker reading the box
    resolves it."""
    terms = MailboxTerms.model_validate(box(1143).model_dump())
    assert terms.password == "${CASEFLOW_TEST_IMAP_PASSWORD}"
    assert "secret" not in terms.model_dump_json()


def test_a_mailbox_whose_secret_is_not_set_is_refused_at_start(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("CASEFLOW_TEST_IMAP_PASSWORD", raising=False)
    path = tmp_path / "mailboxes.yaml"
    path.write_text(
        "mailboxes:\n  - name: support\n    host: imap.example.ru\n    username: s\n"
        "    password: ${CASEFLOW_TEST_IMAP_PASSWORD}\n"
    )
    with pytest.raises(SourceErrors) as refused:
        load(path)
    assert "mailboxes.yaml:5" in str(refused.value) and "not set" in str(refused.value)


async def test_mail_over_the_limit_is_said_and_moved_not_filed(
    caseflow_app, sessions, imap, monkeypatch
) -> None:
    monkeypatch.setattr(imap_module, "MAX_BYTES", 4096)
    raw = letter(f"huge-{uuid.uuid4().hex[:8]}@customer.example", "Огромное", "x" * 10_000)
    await asyncio.to_thread(append, imap, raw)
    connection = await asyncio.to_thread(Connection.open, box(imap))
    try:
        assert await look(sessions, connection) == 1
    finally:
        await asyncio.to_thread(connection.close)
    async with sessions() as db:
        row = await db.scalar(
            select(InboundMessage).where(InboundMessage.message_key == key_of(raw))
        )
    assert row is not None and row.status == "failed" and "larger than" in (row.reason or "")
    assert row.request_id is None
    assert (await asyncio.to_thread(counts, imap))[0] == 0


# The pollers' tests come last: a poller's round may still be running in the worker for a
# moment after its workflow is stopped, and must not take the mail of the tests above.


async def test_the_poller_workflow_brings_a_reply_with_a_file_to_its_case_at_once_by_idle(
    caseflow_app, http, tokens, sessions, imap, dev_env, settings
) -> None:
    state = caseflow_app.state.caseflow
    address = f"idle-{uuid.uuid4().hex[:8]}@customer.example"
    case = await customer_with_case(http, tokens, address)
    await waiting(http, tokens, case)
    slow = box(imap).model_copy(update={"every": timedelta(minutes=5)})
    gateway = Receive(state, "lmtp", Intake(), {})
    sweeping = asyncio.create_task(gateway.sweeping())
    started = await worker_module.read_mailboxes(dev_env.client, settings.task_queue, [slow])
    assert started == ["mailbox-support"]
    poller = dev_env.client.get_workflow_handle("mailbox-support")
    try:
        await asyncio.sleep(2.0)  # the poller's round is waiting in IDLE
        raw = letter(
            address, "Re: Счёт", "Счёт во вложении", to=f"case+{case['id']}@caseflow.local",
            attachment=("счёт.txt", "Счёт № 42".encode()),
        )  # fmt: skip
        await asyncio.to_thread(append, imap, raw)
        for _ in range(100):  # well before the five-minute interval
            async with sessions() as db:
                row = await db.scalar(
                    select(InboundMessage).where(InboundMessage.message_key == key_of(raw))
                )
            if row is not None and row.status != "received":
                break
            await asyncio.sleep(0.1)
        assert row is not None and row.status == "replied", row and row.reason
        assert await poller.query("kept_messages") >= 1
    finally:
        sweeping.cancel()
        # A mailbox taken out of mailboxes.yaml: the worker's next start stops its poller.
        await worker_module.read_mailboxes(dev_env.client, settings.task_queue, [])
    assert (await poller.describe()).status.name == "TERMINATED"
    async with sessions() as db:
        replies = await db.scalar(
            select(func.count())
            .select_from(RequestEvent)
            .where(RequestEvent.request_id == case["id"], RequestEvent.action == "customer-reply")
        )
        files = list(
            await db.scalars(
                select(RequestFile.filename).where(RequestFile.request_id == case["id"])
            )
        )
    assert replies == 1 and files == ["счёт.txt"]


async def test_a_server_that_cannot_list_pollers_does_not_stop_the_worker(
    dev_env, settings, monkeypatch
) -> None:
    """Looking for pollers of removed mailboxes needs the server's visibility queries; a
    server without them is said in the log, and the mailboxes are read all the same."""

    class Refused:
        def __aiter__(self) -> Refused:
            return self

        async def __anext__(self) -> None:
            raise RPCError("no advanced visibility", RPCStatusCode.INVALID_ARGUMENT, b"")

    monkeypatch.setattr(dev_env.client, "list_workflows", lambda *_, **__: Refused())
    # A server nobody answers on: its poller retries and touches no inbox of the others.
    away = box(free_port()).model_copy(update={"name": "away"})
    started = await worker_module.read_mailboxes(dev_env.client, settings.task_queue, [away])
    poller = dev_env.client.get_workflow_handle("mailbox-away")
    try:
        assert started == ["mailbox-away"]
        assert (await poller.describe()).status.name == "RUNNING"
    finally:
        await poller.terminate("the test is over")


async def test_a_message_another_reader_moved_meanwhile_counts_as_moved(imap) -> None:
    """Two rounds at once (a retried round while the first still runs): the one that finds
    the message gone when it moves it has nothing left to do."""
    await asyncio.to_thread(append, imap, letter("two@customer.example", "Двое", "Текст"))
    first = await asyncio.to_thread(Connection.open, box(imap))
    second = await asyncio.to_thread(Connection.open, box(imap))
    try:
        ((uid, _),) = await asyncio.to_thread(first.waiting)
        await asyncio.to_thread(second.processed, uid)
        await asyncio.to_thread(first.processed, uid)  # gone already: no error
    finally:
        for connection in (first, second):
            await asyncio.to_thread(connection.close)
    assert (await asyncio.to_thread(counts, imap))[0] == 0


async def test_a_changed_mailbox_is_read_at_once_even_while_a_round_retries_the_old_one(
    imap, dev_env, dev_worker, settings, sessions
) -> None:
    """A mailbox whose server cannot be reached: its round retries for as long as that
    lasts. Corrected in mailboxes.yaml and the worker started again, the poller is told the
    new mailbox and reads it now, instead of retrying the old server forever. (Last in the
    file: the poller's round may run a few seconds after it is stopped.)"""
    name = f"moving-{uuid.uuid4().hex[:6]}"
    unreachable = box(free_port()).model_copy(update={"name": name})
    raw = letter("moving@customer.example", "Переехали", "Новый сервер")
    # A folder of its own: the earlier pollers' last rounds watch the inbox.
    await asyncio.to_thread(append, imap, raw, "Moving")
    await worker_module.read_mailboxes(dev_env.client, settings.task_queue, [unreachable])
    poller = dev_env.client.get_workflow_handle(f"mailbox-{name}")
    try:
        await asyncio.sleep(3.0)  # the round has failed and waits for its retry
        corrected = box(imap).model_copy(update={"name": name, "folder": "Moving"})
        await worker_module.read_mailboxes(dev_env.client, settings.task_queue, [corrected])
        for _ in range(150):
            if await poller.query("kept_messages") >= 1:
                break
            await asyncio.sleep(0.1)
        kept = await poller.query("kept_messages")
    finally:
        await poller.terminate("the test is over")
        await capture_history(dev_env.client, poller.id)
    assert kept >= 1
    async with sessions() as db:
        row = await db.scalar(
            select(InboundMessage).where(InboundMessage.message_key == key_of(raw))
        )
    assert row is not None and row.via == imap_module.via(name)
