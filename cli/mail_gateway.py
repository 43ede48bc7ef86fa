"""`caseflow mail-gateway`: the receiver a company's MTA delivers customers' e-mail to, over
LMTP (Postfix `lmtp:inet:host:port`) or SMTP. A message is answered 250 only once it is kept
(its bytes and a row in the database): on any failure to keep it the MTA hears 451 and keeps
it; one over the size limit is refused with 552. Kept messages are filed at once (a new
case, a reply on its case, or nothing for a machine's message). What the mailboxes' pollers
(workflows on the worker) keep, and whatever was kept but not filed when the gateway
stopped, is filed as the gateway finds it: it looks every `SWEEP` seconds."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP

from api.inbound_mail import Intake, file, pending
from api.state import AppState
from caseflow.mail import imap
from caseflow.mail.inbound import Inbound
from caseflow.mail.mailboxes import Mailbox
from caseflow.mail.received import MAX_BYTES, keep

log = logging.getLogger("caseflow.mail.gateway")
LANES = 8  # messages filed at once
# Messages received and not yet filed, at most: the next sender waits for its answer (its
# MTA keeps the message meanwhile), so a burst queues at the MTA, not here, and a message
# answered 250 is filed within moments instead of behind thousands.
BACKLOG = 2 * LANES
SWEEP = 0.5  # seconds between looks for messages kept and not filed
REST = 30.0  # seconds before a message whose filing failed is tried again


@dataclass
class Receive:
    """aiosmtpd handler: keep, answer, then file in the background (at most `backlog`
    received messages waiting to be filed)."""

    state: AppState
    protocol: str
    intake: Intake = field(default_factory=Intake)
    # where a new case from a mailbox goes: the mailbox's own defaults, by `via`
    boxes: dict[str, Intake] = field(default_factory=dict)
    filing: set[asyncio.Task[Any]] = field(default_factory=set)
    held: set[int] = field(default_factory=set)  # being filed now
    resting: dict[int, float] = field(default_factory=dict)  # failed: not before (monotonic)
    lanes: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(LANES))
    backlog: int = BACKLOG
    room: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self.room = asyncio.Semaphore(self.backlog)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        recipients = [str(r) for r in envelope.rcpt_tos]
        await self.room.acquire()  # freed when the message is filed
        try:
            async with self.state.sessions() as db:
                row, mail = await keep(
                    db, bytes(raw), recipients=recipients,
                    mail_from=str(envelope.mail_from or ""), via=self.protocol,
                )  # fmt: skip
        except Exception:  # not kept: the MTA must keep it and try again
            self.room.release()
            log.exception("mail not kept")
            return self._each(recipients, "451 4.3.0 Cannot keep the message now; try later")
        if not self.later(row.id, self.protocol, mail, room=True):
            self.room.release()  # being filed already (delivered twice at once)
        return self._each(recipients, "250 2.0.0 Kept")

    def _each(self, recipients: list[str], line: str) -> str:
        """LMTP answers for every recipient, SMTP once."""
        return "\r\n".join([line] * max(1, len(recipients))) if self.protocol == "lmtp" else line

    def later(
        self, message_id: int, via: str, mail: Inbound | None = None, room: bool = False
    ) -> bool:
        """The message filed in the background; False when it is being filed already or
        rests after a failure. `room`: it holds a place of the backlog, freed when filed."""
        if message_id in self.held or self.resting.get(message_id, 0.0) > time.monotonic():
            return False
        self.held.add(message_id)
        intake = self.boxes.get(via, self.intake)
        task = asyncio.create_task(self._file(message_id, intake, mail, room))
        self.filing.add(task)
        task.add_done_callback(self.filing.discard)
        return True

    async def _file(
        self, message_id: int, intake: Intake, mail: Inbound | None, room: bool
    ) -> None:
        async with self.lanes:  # in order of arrival, a few at a time: the database's pool
            try:
                await file(self.state, message_id, intake, mail)
                self.resting.pop(message_id, None)
            except Exception:  # kept: filed again by a sweep a while later
                log.exception("mail %s not filed; trying again in %.0f s", message_id, REST)
                self.resting[message_id] = time.monotonic() + REST
            finally:
                self.held.discard(message_id)
                if room:
                    self.room.release()

    async def sweep(self) -> int:
        """Messages kept and not filed (a mailbox's, or left by a stop) taken up; how many."""
        found = await pending(self.state, limit=1000)
        for message_id, via in found:
            self.later(message_id, via)
        return len(found)

    async def sweeping(self, every: float = SWEEP) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:  # the database away for a moment: the next sweep finds them
                log.exception("looking for mail to file failed")
            await asyncio.sleep(every)

    async def settle(self) -> None:
        """Wait for the messages being filed (tests, and a clean stop)."""
        while self.filing:
            await asyncio.gather(*list(self.filing), return_exceptions=True)


async def serve(
    state: AppState,
    host: str,
    port: int,
    protocol: str = "lmtp",
    intake: Intake | None = None,
    max_bytes: int = MAX_BYTES,
    mailboxes: list[Mailbox] | None = None,
    backlog: int = BACKLOG,
) -> tuple[asyncio.Server, Receive]:
    """The receiver listening; what was kept and not filed before is filed now, and what
    the mailboxes' pollers keep as the handler's `sweeping` finds it."""
    boxes = {
        imap.via(box.name): Intake(topic=box.topic, region=box.region, segment=box.segment)
        for box in mailboxes or []
    }
    handler = Receive(state, protocol, intake or Intake(), boxes, backlog=backlog)
    kind = LMTP if protocol == "lmtp" else SMTP
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: kind(handler, data_size_limit=max_bytes, enable_SMTPUTF8=True, decode_data=False),
        host=host,
        port=port,
    )
    await handler.sweep()
    return server, handler
