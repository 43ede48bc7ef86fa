"""E-mail benchmark: render + outbox + send through the activity vs raw aiosmtplib.

(Issue 8 asked for bench/email.py; a script of that name in this folder would shadow the
standard library's `email` package for every bench script run from here.)

    .venv/bin/python bench/mail.py [--messages 1000] [--concurrency 8] [--rounds 4]

An aiosmtpd server (Sink handler) runs in its own process. `raw` sends one fixed message
per call with `aiosmtplib.send`; `caseflow` calls NotificationActivities.send_notification
with a new notice each time: it reads the customer and the request from PostgreSQL,
renders the templates, writes the outbox row, sends, and marks it sent. `outboxed` is the
least exactly-once sending needs: the raw send with one outbox row written before it and
marked after it, in the same database. All take turns in rounds, `--concurrency` calls at
a time; both ratios are printed. Goal (issue 21): caseflow ≥ 0.8× outboxed.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import psycopg
from sqlalchemy import insert, select, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from activities.notifications import NotificationActivities
from bench.intake import (
    PG_ADMIN,
    Figures,
    free_port,
    in_rounds,
    prepare_database,
    seed_database,
)
from caseflow.mail.context import Batch, Notice
from caseflow.mail.smtp import SmtpConfig
from caseflow.mail.templates import MailTemplates
from caseflow.models import Notification, Request
from caseflow.platform import db as database
from caseflow.requests.topics import load as load_topics
from cli.demo import DEMO_NAMESPACE
from cli.devstack import wait_for_port

SINK = "aiosmtpd.handlers.Sink"
CUSTOMER = str(uuid.uuid5(DEMO_NAMESPACE, "ООО «Ромашка»"))


def fixed_message() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "support@caseflow.local"
    message["To"] = "info@romashka.ru"
    message["Subject"] = "Обращение REQ-000001 решено"
    message.set_content("Уважаемые коллеги!\n\nОбращение решено.\n\nСлужба поддержки\n")
    return message


async def run(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    url, pg_name = prepare_database("postgresql", Path(tempfile.mkdtemp()))
    await seed_database(url)
    engine = database.make_engine(url)
    sessions = database.make_sessionmaker(engine)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", SINK]
    )
    try:
        wait_for_port(port)
        now = datetime.now(UTC)
        async with database.transaction(sessions) as session:
            request = Request(
                id=str(uuid.uuid4()),
                workflow_id="bench-email",
                seq_no=1,
                number="REQ-000001",
                customer_id=CUSTOMER,
                channel="email",
                topic="consultation",
                priority="normal",
                subject="Счёт за ноябрь",
                description="bench",
                intake_hash="h",
                state="resolved",
                line="L1",
                queue="hotline",
                assignee="operator",
                created_by="operator",
                created_at=now,
                updated_at=now,
            )
            session.add(request)
        async with sessions() as session:
            request_id = await session.scalar(select(Request.id))
        smtp = SmtpConfig("127.0.0.1", port)
        activities = NotificationActivities(
            sessions,
            MailTemplates(ROOT / "email_templates"),
            smtp,
            load_topics(ROOT / "routing_rules" / "topics" / "topics.yaml"),
        )
        message = fixed_message()

        async def raw(i: int) -> None:
            await aiosmtplib.send(message, hostname="127.0.0.1", port=port)

        async def outboxed(i: int) -> None:
            """The least exactly-once needs: a durable outbox row before, the send, the row
            marked sent after (two transactions, as an outbox does it)."""
            at = datetime.now(UTC)
            message_id = f"<{uuid.uuid4().hex}@caseflow.local>"
            async with database.transaction(sessions) as session:
                await session.execute(insert(Notification).values(
                    message_id=message_id, recipient_key=f"customer:{CUSTOMER}",
                    recipient="info@romashka.ru", customer_id=CUSTOMER, request_id=request_id,
                    events=["request_resolved"], notice_keys=[f"raw:{i}"], importance="normal",
                    subject=message["Subject"], text=message.get_content(), status="pending",
                    attempts=1, first_notice_at=at, batched_at=at, created_at=at,
                ))  # fmt: skip
            await aiosmtplib.send(message, hostname="127.0.0.1", port=port)
            async with database.transaction(sessions) as session:
                await session.execute(
                    update(Notification)
                    .where(Notification.message_id == message_id)
                    .values(status="sent", sent_at=datetime.now(UTC))
                )

        async def caseflow(i: int) -> None:
            at = datetime.now(UTC)
            notice = Notice(
                key=f"bench:{uuid.uuid4()}",
                event="request_resolved",
                request_id=request_id,
                topic="consultation",
                at=at,
                data={"message": f"Готово, {i}"},
            )
            sent = await activities.send_notification(
                Batch(recipient_key=f"customer:{CUSTOMER}", notices=[notice], batched_at=at)
            )
            assert sent.status == "sent", sent

        calls = {
            name: call
            for name, call in (("raw", raw), ("outboxed", outboxed), ("caseflow", caseflow))
            if name in args.paths
        }
        figures = {name: Figures() for name in calls}
        await in_rounds(
            calls,
            figures,
            total=args.messages,
            rounds=args.rounds,
            concurrency=args.concurrency,
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
        await engine.dispose()
        if pg_name:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    return {name: f.summary() for name, f in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1000, help="per path")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--paths", default="raw,outboxed,caseflow")
    args = parser.parse_args()
    args.paths = set(args.paths.split(","))
    results = asyncio.run(run(args))
    print(
        f"e-mail benchmark: {args.messages} messages per path in {args.rounds} rounds, "
        f"{args.concurrency} concurrent, aiosmtpd Sink in its own process"
    )
    print(f"{'path':<44}{'msg/s':>9}{'p50 ms':>10}{'p95 ms':>10}")
    labels = {
        "raw": "raw aiosmtplib.send, fixed message",
        "outboxed": "raw send + outbox row before and after",
        "caseflow": "send_notification: render+outbox+send",
    }
    for name, n in results.items():
        print(f"{labels[name]:<44}{n['rps']:>9.1f}{n['p50']:>10.1f}{n['p95']:>10.1f}")
    if "caseflow" in results:
        for base in ("raw", "outboxed"):
            if base in results:
                ratio = results["caseflow"]["rps"] / results[base]["rps"]
                goal = " (goal >= 0.80)" if base == "outboxed" else ""
                print(f"throughput ratio caseflow/{base}: {ratio:.2f}{goal}")


if __name__ == "__main__":
    main()
