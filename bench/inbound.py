"""Inbound e-mail benchmark: messages through the mail gateway (LMTP) beside raw intake
(POST /requests), in one run on a Temporal dev server and PostgreSQL.

    .venv/bin/python bench/inbound.py [--messages 1000] [--concurrency 8]

The load: 70 % new messages (each from its own sender, half of them known customers, half
unknown: a new prospect), 30 % replies to those cases (`case+<id>@`), and on top a tenth of
them delivered a second time.
Printed: messages filed per second (first accepted to last filed, the burst), the p50 and p95
from accepted (250) to filed (the case or the reply visible) in the burst and for `--paced`
new messages sent one by one at half that rate, and POST /requests per second on the same
stack at the same concurrency, measured first on the fresh stack (e-mail out is off: nothing
listens for it here). Goals: ≥ 0.7× the raw intake rate, p95 ≤ 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import (
    Figures,
    Stack,
    free_port,
    measure,
    prepare_database,
    seed_database,
    tear_down,
)
from caseflow.mail.inbound import read
from cli.devstack import wait_for_port

ROMASHKA = "51ef48c8-8950-5418-a733-c1ef1bf9fac4"


def letter(sender: str, subject: str, to: str = "support@caseflow.local") -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = make_msgid(domain="bench.example")
    message.set_content(f"{subject}: текст письма для проверки скорости.")
    return message.as_bytes()


async def deliver(port: int, raws: list[tuple[bytes, str]], concurrency: int) -> None:
    """Each message over its own LMTP session, `concurrency` at a time (like an MTA)."""

    def send(raw: bytes, to: str) -> None:
        with smtplib.LMTP("127.0.0.1", port) as client:
            client.sendmail("mta@bench.example", [to], raw)

    gate = asyncio.Semaphore(concurrency)

    async def one(raw: bytes, to: str) -> None:
        async with gate:
            await asyncio.to_thread(send, raw, to)

    await asyncio.gather(*(one(raw, to) for raw, to in raws))


def filed(dsn: str, keys: set[str], timeout: float = 600) -> list[tuple[str, float, str | None]]:
    """Wait until these messages are filed: (status, seconds accepted→filed, case) each."""
    deadline = time.monotonic() + timeout
    while True:
        with psycopg.connect(dsn) as conn:
            rows = conn.execute(
                "SELECT status, EXTRACT(EPOCH FROM filed_at - received_at), request_id "
                "FROM inbound_messages WHERE status <> 'received' AND message_key = ANY(%s)",
                (sorted(keys),),
            ).fetchall()
        if len(rows) >= len(keys) or time.monotonic() > deadline:
            return [(s, float(d or 0), r) for s, d, r in rows]
        time.sleep(0.2)


def keys_of(raws: list[bytes]) -> set[str]:
    return {read(raw).key for raw in raws}


async def run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="caseflow-bench-inbound-"))
    url, pg_name = prepare_database("postgresql", workdir)
    assert pg_name is not None
    dsn = url.replace("+psycopg", "")
    await seed_database(url)
    # No e-mail out (nothing listens for it here): the bench is about mail coming in.
    stack = await Stack.start(url, "bench-inbound", notifications="false")
    port = free_port()
    env = {
        **os.environ,
        "CASEFLOW_DATABASE_URL": url,
        "CASEFLOW_TEMPORAL_ADDRESS": stack.address,
        "CASEFLOW_TASK_QUEUE": "bench-inbound",
        "CASEFLOW_LOG_LEVEL": "WARNING",
        "CASEFLOW_MAIL_THROTTLE_MESSAGES": "1000000",
        "CASEFLOW_NOTIFICATIONS": "false",
    }
    gateway = subprocess.Popen(
        [sys.executable, "-m", "cli", "mail-gateway", "--port", str(port)], env=env, cwd=ROOT
    )
    stack.children.append(gateway)
    try:
        async with stack.http() as http:
            headers = await stack.operator(http)
            wait_for_port(port)
            with psycopg.connect(dsn) as conn:  # room for every case: all get assigned
                conn.execute("UPDATE users SET capacity = 100000")
            # Raw intake first, on the fresh stack, as the baseline.
            intake = Figures()

            async def post(i: int) -> None:
                body = {"customer_id": ROMASHKA, "channel": "phone", "topic": "consultation",
                        "subject": f"bench {i}", "description": "raw intake"}  # fmt: skip
                key = {"Idempotency-Key": str(uuid.uuid4())}
                answer = await http.post("/requests", json=body, headers={**headers, **key})
                assert answer.status_code == 201, answer.text

            await measure(16, args.concurrency, post, Figures())  # warm
            await measure(int(args.messages * 0.7), args.concurrency, post, intake)
            # Latency at a steady pace (half the raw intake rate): new messages one after
            # another as a day's mail arrives, once the intake above has settled.
            await asyncio.sleep(5)
            pace = max(1.0, intake.summary()["rps"] / 2)
            paced = [letter(f"paced-{i}-{uuid.uuid4().hex[:6]}@bench.example", f"Темп {i}")
                     for i in range(args.paced)]  # fmt: skip
            for message in paced:
                began = time.perf_counter()
                await deliver(port, [(message, "support@caseflow.local")], 1)
                await asyncio.sleep(max(0.0, 1 / pace - (time.perf_counter() - began)))
            in_pace = filed(dsn, keys_of(paced))
            await asyncio.sleep(5)
            # The burst: throughput.
            new = int(args.messages * 0.7)
            senders = [f"bench-{i}-{uuid.uuid4().hex[:6]}@bench.example" for i in range(new)]
            for i, sender in enumerate(senders[: new // 2]):  # half of them customers already
                body = {"kind": "person", "name": f"Клиент {i}", "emails": [sender],
                        "region": "RU-MOW", "segment": "b2c"}  # fmt: skip
                made = await http.post("/customers", json=body, headers=headers)
                assert made.status_code == 201, made.text
            first = [letter(sender, f"Вопрос {i}") for i, sender in enumerate(senders)]
            again = first[: new // 10]
            started = time.perf_counter()
            await deliver(port, [(raw, "support@caseflow.local") for raw in first + again],
                          args.concurrency)  # fmt: skip
            opened = filed(dsn, keys_of(first))
            cases = [r for _, _, r in opened if r]
            replies = []
            with psycopg.connect(dsn) as conn:
                writers: dict[str, str] = dict(conn.execute(
                    "SELECT request_id, mail_from FROM inbound_messages WHERE request_id = ANY(%s)",
                    (cases,),
                ).fetchall())  # fmt: skip
            ids = sorted(writers)
            for i in range(args.messages - new):
                case = ids[i % len(ids)]
                to = f"case+{case}@caseflow.local"
                replies.append((letter(writers[case], f"Re: Вопрос {i}", to), to))
            await deliver(port, replies + replies[: len(replies) // 10], args.concurrency)
            done = opened + filed(dsn, keys_of([raw for raw, _ in replies]))
            elapsed = time.perf_counter() - started

    finally:
        await tear_down(stack.children, stack.server, pg_name)

    waits = sorted(d for _, d, _ in done)
    statuses = {s: sum(1 for x, _, _ in done if x == s) for s in {x for x, _, _ in done}}
    rate, baseline = len(done) / elapsed, intake.summary()
    p95 = waits[max(0, int(len(waits) * 0.95) - 1)]
    print(f"inbound e-mail: {len(done):,} messages filed ({statuses}), "
          f"{len(first + again) + len(replies) * 11 // 10:,} deliveries, "
          f"{args.concurrency} concurrent, PostgreSQL")  # fmt: skip
    print(f"  through the mail gateway  {rate:8.1f} messages/s   accepted→filed "
          f"p50 {statistics.median(waits) * 1000:6.0f} ms  p95 {p95 * 1000:6.0f} ms")  # fmt: skip
    steady = sorted(d for _, d, _ in in_pace)
    print(f"  at {pace:.1f} messages/s, {len(steady)} new messages: accepted→filed "
          f"p50 {statistics.median(steady) * 1000:6.0f} ms  "
          f"p95 {steady[max(0, int(len(steady) * 0.95) - 1)] * 1000:6.0f} ms")  # fmt: skip
    print(f"  raw POST /requests        {baseline['rps']:8.1f} requests/s  "
          f"p50 {baseline['p50']:6.0f} ms  p95 {baseline['p95']:6.0f} ms")  # fmt: skip
    print(f"  ratio gateway / raw intake: {rate / baseline['rps']:.2f} (goal >= 0.70); p95 accepted"
          f"→filed {p95:.2f} s in the burst, {steady[max(0, int(len(steady) * 0.95) - 1)]:.2f} s"
          " at the steady pace (goal <= 2 s)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--paced", type=int, default=100, help="new messages at a steady pace")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
