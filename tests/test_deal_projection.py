"""The deals read model as the workflow's projection keeps it: a step's snapshot written
again (a retried activity) or late (an older step's retry arriving after a newer one)
changes nothing — the deal row only moves forward, each event is kept once, tasks are as
the newest snapshot has them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from caseflow.deals import store
from caseflow.deals.gates import DealEvent, DealSnapshot, DealStart, DealView, Task
from caseflow.models import Deal, DealEventRow, DealTask
from caseflow.payloads import Actor
from caseflow.requests.lifecycle import Role
from tests.conftest import PIPELINES
from tests.helpers import ROMASHKA

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def task(status: str, closed_by: str | None = None) -> Task:
    return Task(
        id=1, stage="qualification", title="Первый звонок клиенту", type="call",
        assignee_role="owner", assignee="manager", due_at=NOW + timedelta(hours=4),
        blocking=True, status=status, closed_by=closed_by,
    )  # fmt: skip


def snapshot(deal_id: str, seq: int, stage: str, done: bool) -> DealSnapshot:
    view = DealView(
        id=deal_id, workflow_id=f"deal-{deal_id}", pipeline="b2b", title="Топливные карты",
        owner="manager", customer_id=ROMASHKA, amount=None, currency="RUB", stage=stage,
        stage_title=stage, status="open", fields={"budget": seq},
        tasks=[task("done", "manager") if done else task("open")], missing=[],
        created_at=NOW, runs=1, last_seq=seq,
    )  # fmt: skip
    event = DealEvent(seq=seq, at=NOW + timedelta(minutes=seq), actor="manager",
                      action=f"step {seq}", stage=stage)  # fmt: skip
    return DealSnapshot(view=view, events=[event])


async def test_a_retried_or_late_snapshot_changes_nothing(sessions) -> None:
    deal_id = str(uuid.uuid4())
    owner = Actor(username="manager", role=Role.MANAGER, lines=[])
    start = DealStart(
        deal_id=deal_id, pipeline="b2b", title="Топливные карты", owner=owner,
        customer={"kind": "organization"}, customer_id=ROMASHKA, body_hash="h", at=NOW,
    )  # fmt: skip
    async with sessions() as db, db.begin():
        await store.register(db, start, PIPELINES["b2b"])
    first = snapshot(deal_id, 1, "qualification", done=False)
    second = snapshot(deal_id, 2, "needs", done=True)
    for step in (first, second, second, first):  # a retry, then an old step's late retry
        async with sessions() as db, db.begin():
            await store.project(db, step)

    async with sessions() as db:
        deal = await db.get(Deal, deal_id)
        assert deal is not None
        assert (deal.stage, deal.last_seq, deal.fields) == ("needs", 2, {"budget": 2})
        events = (
            await db.scalars(
                select(DealEventRow.action)
                .where(DealEventRow.deal_id == deal_id)
                .order_by(DealEventRow.seq)
            )
        ).all()
        assert events == ["step 1", "step 2"]
        (row,) = (await db.scalars(select(DealTask).where(DealTask.deal_id == deal_id))).all()
        assert (row.status, row.closed_by) == ("done", "manager")
