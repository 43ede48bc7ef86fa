"""Deal activities: register a deal (pipeline terms, who does what) and project its steps."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.notifications import NoticePoster
from caseflow.deals.gates import DealRegistered, DealSnapshot, DealStart, Task
from caseflow.deals.pipelines import PipelineTerms
from caseflow.mail.context import Notice
from caseflow.models import Customer, Deal, DealEventRow, DealTask, User
from caseflow.people.store import zone_supervisors
from caseflow.platform.db import transaction
from caseflow.requests.lifecycle import Role


class DealActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        pipelines: dict[str, PipelineTerms],
        poster: NoticePoster | None = None,
    ) -> None:
        self.sessions = sessions
        self.pipelines = pipelines
        self.poster = poster

    @activity.defn
    async def register_deal(self, start: DealStart) -> DealRegistered:
        terms = self.pipelines.get(start.pipeline)
        if terms is None:
            raise ApplicationError(
                f"no pipeline '{start.pipeline}'", type="unknown_pipeline", non_retryable=True
            )
        async with transaction(self.sessions) as session:
            existing = await session.get(Deal, start.deal_id)
            # The workflow's time, so due times of tasks count from the creation shown.
            now = existing.created_at if existing else (start.at or datetime.now(UTC))
            if existing is None:
                session.add(
                    Deal(
                        id=start.deal_id,
                        workflow_id=f"deal-{start.deal_id}",
                        pipeline=terms.name,
                        title=start.title,
                        owner=start.owner.username,
                        customer_id=start.customer_id,
                        amount=start.amount,
                        currency=start.currency,
                        stage=terms.stages[0].code,
                        status="open",
                        fields=start.fields,
                        last_seq=0,
                        created_at=now,
                        updated_at=now,
                    )
                )
            supervisors = await zone_supervisors(session, start.owner.team)
            if not supervisors:
                supervisors = list(
                    await session.scalars(
                        select(User.username)
                        .where(User.role == Role.SUPERVISOR, User.active.is_(True))
                        .order_by(User.username)
                    )
                )
        people = {
            "owner": start.owner.username,
            "supervisor": supervisors[0] if supervisors else start.owner.username,
            "legal": terms.legal,
        }
        return DealRegistered(terms=terms, people=people, created_at=now)

    @activity.defn
    async def project_deal(self, snapshot: DealSnapshot) -> None:
        """Idempotent: the deal row only moves forward, tasks are upserted, events kept once."""
        view = snapshot.view
        async with transaction(self.sessions) as session:
            await session.execute(
                update(Deal)
                .where(Deal.id == view.id, Deal.last_seq < view.last_seq)
                .values(
                    stage=view.stage,
                    status=view.status,
                    fields=view.fields,
                    last_seq=view.last_seq,
                    updated_at=datetime.now(UTC),
                )
            )
            if view.status == "won":  # a won deal makes the prospect a client
                await session.execute(
                    update(Customer)
                    .where(Customer.id == view.customer_id, Customer.status == "prospect")
                    .values(status="client")
                )
            known = {
                row.task_id: row
                for row in await session.scalars(
                    select(DealTask).where(DealTask.deal_id == view.id)
                )
            }
            for task in view.tasks:
                row = known.get(task.id) or DealTask(deal_id=view.id, task_id=task.id)
                _copy(task, row)
                session.add(row)
            seen = set(
                await session.scalars(
                    select(DealEventRow.seq).where(
                        DealEventRow.deal_id == view.id,
                        DealEventRow.seq.in_([e.seq for e in snapshot.events]),
                    )
                )
            )
            session.add_all(
                DealEventRow(deal_id=view.id, **event.model_dump(mode="json") | {"at": event.at})
                for event in snapshot.events
                if event.seq not in seen
            )
            owner_name = await session.scalar(
                select(User.full_name).where(User.username == view.owner)
            )
        if self.poster is None:
            return
        tasks = {t.id: t for t in view.tasks}
        for notice in snapshot.notices:
            found = tasks.get(int(str(notice["task"])))
            if found is None:
                continue
            task = found
            await self.poster.post(
                f"user:{notice['to']}",
                Notice(
                    key=f"{view.workflow_id}:{task.id}:{notice['event']}",
                    event=str(notice["event"]),
                    importance="critical" if notice["event"] == "deal_task_overdue" else "normal",
                    at=datetime.now(UTC),
                    data={
                        "deal": {
                            "title": view.title,
                            "stage": view.stage_title,
                            "owner_name": owner_name or view.owner,
                        },
                        "task": {"title": task.title, "due": task.due_at.isoformat()},
                    },
                ),
            )


def _copy(task: Task, row: DealTask) -> None:
    row.stage, row.title, row.type = task.stage, task.title, task.type
    row.assignee, row.due_at, row.blocking = task.assignee, task.due_at, task.blocking
    row.status, row.result, row.reason = task.status, task.result, task.reason
    row.closed_by = task.closed_by
    row.reminded_at, row.overdue_at = task.reminded_at, task.overdue_at
