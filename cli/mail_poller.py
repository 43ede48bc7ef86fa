"""Mailboxes read over IMAP (`routing_rules/mail/mailboxes.yaml`), by the mail gateway process:
each message waiting in the folder is kept once (by Message-ID), filed, and only then moved
to the processed folder. A poller stopped anywhere in between leaves the message where the
next look finds it: kept already, filed already, so it is only moved — one case, never two.

The server is asked again as soon as it says something arrived (IMAP IDLE) where it offers
that, otherwise every `every`. imapclient is a blocking library: its calls run in a thread."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from imapclient import IMAPClient

from api.inbound_mail import Intake, file, keep, refuse
from api.state import AppState
from caseflow.mail.mailboxes import Mailbox

log = logging.getLogger("caseflow.mail.imap")
BATCH = 50  # messages fetched per look
MAX_BYTES = 25 * 1024 * 1024  # as the gateway's limit
LIMIT = "25 MiB"
RETRY = 30.0  # seconds before trying a server that failed again


@dataclass
class Connection:
    box: Mailbox
    client: IMAPClient
    processed_folder: (
        str  # in the server's own hierarchy ("Caseflow/Processed" → "Caseflow.Processed")
    )

    @classmethod
    def open(cls, box: Mailbox) -> Connection:
        client = IMAPClient(box.host, port=box.port, ssl=box.tls, timeout=60)
        client.login(box.secret(box.username), box.secret(box.password))
        root = client.list_folders(directory="", pattern="")
        delimiter = root[0][1] if root and root[0][1] else b"/"
        separator = delimiter.decode() if isinstance(delimiter, bytes) else str(delimiter)
        processed = box.processed_folder.replace("/", separator)
        if not client.folder_exists(processed):
            client.create_folder(processed)
        client.select_folder(box.folder)
        return cls(box, client, processed)

    def waiting(self) -> list[tuple[int, bytes]]:
        self.client.noop()  # the session learns of mail that arrived since it last asked
        uids = sorted(self.client.search(["NOT", "DELETED"]))[:BATCH]
        if not uids:
            return []
        found = self.client.fetch(uids, ["RFC822"])
        return [(uid, bytes(found[uid][b"RFC822"])) for uid in uids if uid in found]

    def processed(self, uid: int) -> None:
        if self.client.has_capability("MOVE"):
            self.client.move([uid], self.processed_folder)
            return
        self.client.copy([uid], self.processed_folder)
        self.client.delete_messages([uid])
        self.client.expunge()

    def wait(self, seconds: float) -> None:
        """Until the server says something arrived, or `seconds` pass."""
        if not self.client.has_capability("IDLE"):
            return
        self.client.idle()
        try:
            self.client.idle_check(timeout=seconds)
        finally:
            self.client.idle_done()

    def close(self) -> None:
        try:
            self.client.logout()
        except Exception:  # a connection already gone
            pass


async def look(
    state: AppState,
    connection: Connection,
    *,
    filed: Callable[[int], Awaitable[None]] | None = None,
) -> int:
    """One look at the folder: every waiting message kept, filed and moved; how many.
    `filed` is called between filing and moving (the tests stop there, as a crash would)."""
    box = connection.box
    intake = Intake(topic=box.topic, region=box.region, segment=box.segment)
    waiting = await asyncio.to_thread(connection.waiting)
    for uid, raw in waiting:
        if len(raw) > MAX_BYTES:  # as the gateway answers 552: said, not filed, moved on
            async with state.sessions() as db:
                await refuse(db, raw, via=f"imap:{box.name}", reason=f"larger than {LIMIT}")
            await asyncio.to_thread(connection.processed, uid)
            continue
        async with state.sessions() as db:
            row, mail = await keep(
                db, raw, recipients=[box.serves] if box.serves else [], mail_from="",
                via=f"imap:{box.name}",
            )  # fmt: skip
        await file(state, row.id, intake, mail)
        if filed is not None:
            await filed(row.id)
        await asyncio.to_thread(connection.processed, uid)
    return len(waiting)


async def watch(state: AppState, box: Mailbox) -> None:
    """Read the mailbox for as long as the gateway runs; a failing server is tried again."""
    while True:
        connection: Connection | None = None
        try:
            connection = await asyncio.to_thread(Connection.open, box)
            log.info("mailbox %s: reading %s on %s", box.name, box.folder, box.host)
            while True:
                await look(state, connection)
                seconds = box.every.total_seconds()
                if connection.client.has_capability("IDLE"):
                    await asyncio.to_thread(connection.wait, seconds)
                else:
                    await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            raise
        except Exception:  # the server or the database failed: the mail waits there
            log.exception("mailbox %s: failed; trying again in %.0f s", box.name, RETRY)
            await asyncio.sleep(RETRY)
        finally:
            if connection is not None:
                await asyncio.to_thread(connection.close)


def watching(state: AppState, boxes: list[Mailbox]) -> list[asyncio.Task[Any]]:
    return [asyncio.create_task(watch(state, box), name=f"mailbox-{box.name}") for box in boxes]
