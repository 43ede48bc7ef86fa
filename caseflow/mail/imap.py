"""A mailbox read over IMAP (imapclient, a blocking library: callers run it in a thread):
each message waiting in the folder is kept once (by its key, `received.keep`) and only then
moved to the processed folder. A reader stopped anywhere in between leaves the message where
the next look finds it, kept already, so it is only moved — one case, never two. Filing what
was kept is the mail gateway's."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from imapclient import IMAPClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from caseflow.mail.mailboxes import Mailbox
from caseflow.mail.received import MAX_BYTES, keep, refuse

BATCH = 50  # messages fetched per look


def via(box_name: str) -> str:
    """How a message kept from this mailbox names where it came from."""
    return f"imap:{box_name}"


@dataclass
class Connection:
    box: Mailbox
    client: IMAPClient
    # in the server's own hierarchy ("Caseflow/Processed" → "Caseflow.Processed")
    processed_folder: str

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

    @property
    def idles(self) -> bool:
        return bool(self.client.has_capability("IDLE"))

    def waiting(self) -> list[tuple[int, bytes]]:
        self.client.noop()  # the session learns of mail that arrived since it last asked
        uids = sorted(self.client.search(["NOT", "DELETED"]))[:BATCH]
        if not uids:
            return []
        found = self.client.fetch(uids, ["RFC822"])
        return [(uid, bytes(found[uid][b"RFC822"])) for uid in uids if uid in found]

    def processed(self, uid: int) -> None:
        """The message moved to the processed folder. One another reader moved meanwhile (a
        round retried while the first still ran) was kept by it too: nothing is left to do."""
        try:
            if self.client.has_capability("MOVE"):
                self.client.move([uid], self.processed_folder)
                return
            self.client.copy([uid], self.processed_folder)
            self.client.delete_messages([uid])
            self.client.expunge()
        except IMAPClient.Error:
            self.client.noop()
            if self.client.search(["UID", str(uid)]):  # still here: a failure of its own
                raise

    def wait(self, seconds: float) -> bool:
        """Until the server says something arrived (True), or `seconds` pass (False); at
        once where the server has no IDLE."""
        if not self.idles:
            return False
        self.client.idle()
        try:
            said = self.client.idle_check(timeout=seconds)
        finally:
            self.client.idle_done()
        return bool(said)

    def close(self) -> None:
        try:
            self.client.logout()
        except Exception:  # a connection already gone
            pass


async def look(
    sessions: async_sessionmaker[AsyncSession],
    connection: Connection,
    *,
    kept: Callable[[int], Awaitable[None]] | None = None,
) -> int:
    """One look at the folder: every waiting message kept, then moved; how many. A message
    over the size limit is not kept: a row says so, and it is moved. `kept` is called
    between keeping and moving (the tests stop there, as a crash would)."""
    box = connection.box
    waiting = await asyncio.to_thread(connection.waiting)
    for uid, raw in waiting:
        async with sessions() as db:
            if len(raw) > MAX_BYTES:  # as the gateway answers 552: said, not filed
                row = await refuse(
                    db, raw, via=via(box.name), reason=f"larger than {MAX_BYTES // 2**20} MiB"
                )
            else:
                recipients = [box.serves] if box.serves else []
                row, _ = await keep(db, raw, recipients=recipients, mail_from="", via=via(box.name))
        if kept is not None:
            await kept(row.id)
        await asyncio.to_thread(connection.processed, uid)
    return len(waiting)
