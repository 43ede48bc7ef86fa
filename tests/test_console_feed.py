"""The console's change feed: a recorded step of a request wakes the pages watching it at
once (PostgreSQL LISTEN/NOTIFY through migration 0016's trigger), and only those."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from caseflow.models import DealTask, RequestEvent, SlaClock
from console.feed import ANY_DEAL, ChangeFeed


async def record_step(sessions, request_id: str) -> None:
    async with sessions() as session:
        session.add(
            RequestEvent(
                request_id=request_id, workflow_id=f"feed-{request_id}", seq=1,
                at=datetime.now(UTC), actor="operator", actor_role="operator",
                action="register", from_state=None, to_state="registered", line="L1",
                queue=None, assignee=None, reason=None, data={},
            )
        )  # fmt: skip
        await session.commit()


async def test_a_step_wakes_its_watchers_only(settings, sessions) -> None:
    feed = ChangeFeed.for_database(settings.database_url)
    assert feed.live
    watched, other = str(uuid.uuid4()), str(uuid.uuid4())
    async with feed.watch(watched) as mine, feed.watch(other) as theirs, feed.watch() as all_:
        await asyncio.sleep(0.5)  # the LISTEN connection is up
        await record_step(sessions, watched)
        await asyncio.wait_for(mine.wait(), timeout=5)
        await asyncio.wait_for(all_.wait(), timeout=5)
        assert not theirs.is_set()
    assert feed.task is None  # nobody watches: no connection is kept


def test_sqlite_has_no_feed_and_pages_poll() -> None:
    assert not ChangeFeed.for_database("sqlite+aiosqlite:///./x.db").live


async def test_a_change_of_the_sla_ledger_wakes_its_watchers(settings, sessions) -> None:
    """The ledger is written just after the step: a page woken by the step alone would show
    the clock as it was (a breach missing on the floor)."""
    feed = ChangeFeed.for_database(settings.database_url)
    watched = str(uuid.uuid4())
    now = datetime.now(UTC)
    async with feed.watch(watched) as mine:
        await asyncio.sleep(0.5)
        async with sessions() as session:
            session.add(
                SlaClock(
                    request_id=watched, segment=1, kind="first_response", line="L1",
                    queue=None, assignee=None, policy="p", calendar="c", target_s=4,
                    elapsed_s=0, started_at=now, due_at=now, paused=False, pauses=[],
                    request_open=True, as_of=now, as_of_seq=1,
                )
            )  # fmt: skip
            await session.commit()
        await asyncio.wait_for(mine.wait(), timeout=5)


async def test_a_change_of_a_deals_task_wakes_the_deal_pages_not_the_queues(
    settings, sessions
) -> None:
    """A task marked overdue by its timer moves no step of the deal, yet its page and the
    board show it; the queues, which watch requests, are not woken for it."""
    feed = ChangeFeed.for_database(settings.database_url)
    deal, other = str(uuid.uuid4()), str(uuid.uuid4())
    now = datetime.now(UTC)
    async with (
        feed.watch(f"deal:{deal}") as page,
        feed.watch(f"deal:{other}") as other_page,
        feed.watch(ANY_DEAL) as board,
        feed.watch() as queue,
    ):
        await asyncio.sleep(0.5)
        async with sessions() as session:
            session.add(
                DealTask(
                    deal_id=deal, task_id=1, stage="qualification", title="call", type="call",
                    assignee="manager", due_at=now, blocking=True, status="open",
                )
            )  # fmt: skip
            await session.commit()
        await asyncio.wait_for(page.wait(), timeout=5)
        await asyncio.wait_for(board.wait(), timeout=5)
        await asyncio.sleep(0.3)
        assert not other_page.is_set() and not queue.is_set()
