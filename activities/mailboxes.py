"""Mailbox activity: one round of a mailbox's poller — connect, keep and move what waits,
and where the server offers IDLE, wait in it (heartbeating) until mail arrives or the
interval passes, then look again. Filing what was kept is the mail gateway's."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from caseflow.mail import imap
from caseflow.mail.mailbox_terms import MailboxRound, MailboxTerms
from caseflow.mail.mailboxes import Mailbox

BEAT = 5.0  # seconds between heartbeats while the server is asked to say when mail arrives


class MailboxActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @activity.defn
    async def read_mailbox(self, terms: MailboxTerms) -> MailboxRound:
        box = Mailbox.model_validate(terms.model_dump())  # its secrets: this worker's
        connection = await asyncio.to_thread(imap.Connection.open, box)
        try:
            kept = await imap.look(self.sessions, connection)
            if kept or not connection.idles:
                return MailboxRound(kept=kept)
            waiting = asyncio.create_task(
                asyncio.to_thread(connection.wait, box.every.total_seconds())
            )
            while not waiting.done():
                activity.heartbeat()
                await asyncio.wait({waiting}, timeout=BEAT)
            if waiting.result():
                kept = await imap.look(self.sessions, connection)
            return MailboxRound(kept=kept, waited=True)
        finally:
            await asyncio.to_thread(connection.close)
