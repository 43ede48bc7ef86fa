"""Deal activities: register a deal (pipeline terms, who does what) and project its steps."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.notifications import NoticePoster
from caseflow.deals import store as deals
from caseflow.deals.gates import DealRegistered, DealSnapshot, DealStart
from caseflow.deals.pipelines import PipelineTerms
from caseflow.mail.context import Notice
from caseflow.platform.db import transaction


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
            now = await deals.register(session, start, terms)
            supervisor = await deals.supervisor_of(session, start.owner.team)
        people = {
            "owner": start.owner.username,
            "supervisor": supervisor or start.owner.username,
            "legal": terms.legal,
        }
        return DealRegistered(terms=terms, people=people, created_at=now)

    @activity.defn
    async def project_deal(self, snapshot: DealSnapshot) -> None:
        """Idempotent: the deal row only moves forward, tasks are upserted, events kept once."""
        view = snapshot.view
        async with transaction(self.sessions) as session:
            await deals.project(session, snapshot)
            if self.poster is None or not snapshot.notices:
                return
            owner_name = await deals.full_name(session, view.owner)
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
