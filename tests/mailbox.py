"""A real SMTP server for tests (aiosmtpd on loopback) that keeps what arrives."""

from __future__ import annotations

import asyncio
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller


class Keep:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


class Mailbox:
    def __init__(self, port: int) -> None:
        self.keep = Keep()
        self.controller = Controller(self.keep, hostname="127.0.0.1", port=port)
        self.port = port

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.keep.messages if address in rcpt]

    async def wait_for(
        self, address: str, count: int = 1, seconds: float = 20
    ) -> list[EmailMessage]:
        for _ in range(int(seconds * 10)):
            if len(self.to(address)) >= count:
                break
            await asyncio.sleep(0.1)
        return self.to(address)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())
