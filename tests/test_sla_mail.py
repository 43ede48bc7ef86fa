"""The assignee hears of their request's SLA by e-mail: a warning before the due time and the
breach when the policy says `notify_assignee` (time-skipping server, real SMTP)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest_asyncio

from tests.conftest import mail_for, worker_for
from tests.helpers import SUPERVISOR, act, open_request
from tests.mailbox import text_of


# For the whole session: the notifiers it starts wait a quiet day on its queue, and the
# time-skipping server only skips time while every due timer has a worker.
@pytest_asyncio.fixture(scope="session")
async def mailing(env, sessions, rules, mailbox) -> AsyncIterator[tuple]:
    ts, _ = env  # the session's worker keeps running the other tests' timers
    queue = f"mail-{uuid.uuid4().hex}"
    async with worker_for(ts.client, queue, sessions, rules, mail=mail_for(mailbox.port)):
        yield ts, queue


async def test_the_assignee_is_warned_then_told_of_the_breach(mailing, mailbox) -> None:
    ts, queue = mailing
    handle, view = await open_request(ts.client, queue)
    assert view.sla is not None and view.sla.policy == "standard"  # notify_assignee
    address = f"{view.assignee}@caseflow.local"

    def about_it() -> list[str]:
        return [m["Subject"] for m in mailbox.to(address) if view.number in m["Subject"]]

    # Two working hours for the first answer, whatever the calendar says now.
    for _ in range(40):
        await ts.sleep(timedelta(hours=2))
        if len(about_it()) >= 2:
            break
        await asyncio.sleep(0.2)
    for _ in range(50):
        if len(about_it()) >= 2:
            break
        await asyncio.sleep(0.1)
    assert about_it()[:2] == [
        f"Срок SLA подходит к концу: {view.number}",
        f"Срок SLA истёк: {view.number}",
    ]
    breach = next(m for m in mailbox.to(address) if m["Subject"] == about_it()[1])
    assert "истёк срок первого ответа на линии L1" in text_of(breach)
    await act(handle, "cancel", SUPERVISOR, reason="тест")
