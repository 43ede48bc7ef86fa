"""A burst of e-mail waits at the sender's MTA, not inside the gateway: at most `backlog`
messages are received and not yet filed; the next one is answered (and kept) only when one
of them is filed, so a message answered 250 is never behind thousands."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select

import cli.mail_gateway as gateway
from caseflow.models import InboundMessage
from cli.mail_gateway import serve
from tests.conftest import free_port
from tests.test_inbound_mail import deliver, key_of, letter


async def kept(sessions, raw: bytes) -> InboundMessage | None:
    async with sessions() as db:
        return await db.scalar(
            select(InboundMessage).where(InboundMessage.message_key == key_of(raw))
        )


async def test_the_message_after_a_full_backlog_waits_for_its_answer(
    caseflow_app, sessions, monkeypatch
) -> None:
    released = asyncio.Event()
    real_file = gateway.file

    async def slow_file(*args, **kwargs):  # filing held up, as under a burst
        await released.wait()
        return await real_file(*args, **kwargs)

    monkeypatch.setattr(gateway, "file", slow_file)
    port = free_port()
    server, handler = await serve(caseflow_app.state.caseflow, "127.0.0.1", port, backlog=2)
    try:
        raws = [
            letter(f"burst-{i}-{uuid.uuid4().hex[:6]}@customer.example", f"Поток {i}", "Текст")
            for i in range(3)
        ]
        await asyncio.gather(deliver(port, raws[0]), deliver(port, raws[1]))  # both answered
        third = asyncio.create_task(deliver(port, raws[2]))
        await asyncio.sleep(1.0)
        assert not third.done()  # no answer yet: its MTA still holds it
        assert await kept(sessions, raws[2]) is None
        released.set()
        await asyncio.wait_for(third, timeout=30)
        await handler.settle()
        for raw in raws:
            row = await kept(sessions, raw)
            assert row is not None and row.status == "registered", row and row.reason
    finally:
        released.set()
        server.close()
        await server.wait_closed()
