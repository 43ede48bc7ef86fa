"""The mail catcher of `make run`: an SMTP server on loopback that keeps every message as a
file (`.caseflow/mail/<n>.eml`) and logs one readable line for each; `caseflow mail list` and
`caseflow mail show N` read them decoded (subjects and bodies are base64 on the wire).

Like a real server for a mailbox that does not exist, it refuses any address in the
reserved `.invalid` domain with 550, so the demo has an e-mail that failed for good."""

from __future__ import annotations

import argparse
import asyncio
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


def parse(data: bytes) -> EmailMessage:
    message = message_from_bytes(data, policy=default)
    assert isinstance(message, EmailMessage)
    return message


class Keep:
    """aiosmtpd handler: each message to a numbered file, a line to standard output."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        taken = [int(p.stem) for p in folder.glob("*.eml") if p.stem.isdigit()]
        self.numbers = itertools.count(max(taken, default=0) + 1)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.rstrip(">").lower().endswith(".invalid"):
            return f"550 5.1.1 <{address}>: no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        number = next(self.numbers)
        data = envelope.original_content or envelope.content
        (self.folder / f"{number}.eml").write_bytes(data)
        message = parse(data)
        to = ", ".join(envelope.rcpt_tos)
        at = datetime.now(UTC).isoformat(timespec="seconds")
        print(f"{at} #{number} to {to}: {message['Subject']}", flush=True)
        return "250 OK"


@dataclass(frozen=True)
class Kept:
    number: int
    message: EmailMessage

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain", "html"))
        return "" if part is None else str(part.get_content())


def kept(folder: Path) -> list[Kept]:
    """The caught messages, oldest first."""
    paths = sorted((p for p in folder.glob("*.eml") if p.stem.isdigit()), key=lambda p: int(p.stem))
    return [Kept(int(p.stem), parse(p.read_bytes())) for p in paths]


async def serve(port: int, folder: Path) -> None:
    controller = Controller(Keep(folder), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"catching mail on 127.0.0.1:{port} into {folder}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=Path(".caseflow") / "mail")
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.port, args.dir))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
