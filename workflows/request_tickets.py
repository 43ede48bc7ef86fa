"""RequestWorkflow's external tickets: the hand-off to an adjacent department's system, what
goes there, what comes back (articles, statuses), and taking the case back."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.tickets import TicketActivities
    from caseflow.payloads import (
        SYSTEM_ACTOR,
        Action,
        Actor,
    )
    from caseflow.requests.lifecycle import (
        FINAL_STATES,
        WORKING,
        Line,
        Role,
    )
    from caseflow.tickets.connectors import (
        FINISHED,
        ArticleFetch,
        ExternalTicket,
        TicketChange,
        TicketOrder,
        TicketPost,
        remember,
        verdict,
    )

from workflows.request_sla import SlaClocks

EXTERNAL_STEP = timedelta(seconds=60)
EXTERNAL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=["ticket_rejected", "unknown_connector"],
)
ARTICLE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=8,
    non_retryable_error_types=["ticket_rejected", "unknown_connector"],
)


def machine(change: TicketChange) -> Actor:
    """Who made an external change, as the case history names them."""
    return Actor(username=f"{change.connector}:{change.author or 'system'}", role=Role.INTEGRATION)


class ExternalTickets(SlaClocks):
    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Long work (an external system may be down for hours) runs beside the handlers."""
        self.tasks.append(asyncio.create_task(work))

    async def _open_ticket(self, ticket: ExternalTicket) -> None:
        """Create the ticket (the activity finds one an earlier attempt made), then link it."""
        order = TicketOrder(
            connector=ticket.connector,
            ref=self.start.request_id,
            number=self.number or self.start.request_id,
            queue=ticket.queue,
            subject=self.start.subject,
            body=f"{ticket.note}\n\n{self.start.description}".strip(),
            priority=self.priority,
            request_id=self.start.request_id,
            workflow_id=self._wf_id(),
            topic=self.start.topic,
        )
        try:
            ref = await workflow.execute_activity_method(
                TicketActivities.open_ticket,
                order,
                start_to_close_timeout=EXTERNAL_STEP,
                retry_policy=EXTERNAL_RETRY,
            )
        except ActivityError as exc:
            await self._handoff_failed(ticket, str(exc.cause or exc))
            return
        async with self.lock:
            ticket.ticket_id, ticket.number, ticket.url = ref.ticket_id, ref.number, ref.url
            ticket.closure, ticket.status = ref.closure, "new"
            event = self._event(
                "ticket-opened",
                SYSTEM_ACTOR,
                self.state,
                reason=f"{ticket.connector} ticket {ref.number} in {ticket.queue}",
            )
            event.data = {**ref.model_dump(), "connector": ticket.connector}
            await self._record(event)

    async def _handoff_failed(self, ticket: ExternalTicket, why: str) -> None:
        async with self.lock:
            ticket.failed, ticket.active = why, False
            reason = f"{ticket.connector} refused the ticket: {why}"
            event = self._event("handoff-failed", SYSTEM_ACTOR, self.state, reason=reason)
            event.data = {"connector": ticket.connector, "queue": ticket.queue}
            await self._record(event)
            if self.line == Line.EXTERNAL and self.state in WORKING and self.hops:
                back = Action(name="return", actor=SYSTEM_ACTOR, reason=reason)
                await self._transition(back)
            await self._publish_ledger()

    def _tell_department(self, action: Action) -> None:
        """The case was taken back from the department in Caseflow (returned, reassigned,
        cancelled): the ticket gets an internal note saying so, and follows no more."""
        ticket = self.ticket
        if ticket is None or not ticket.active or ticket.failed is not None:
            return
        if self.line == Line.EXTERNAL and self.state not in FINAL_STATES:
            return
        ticket.active = False
        why = action.reason or action.text or "-"
        note = Action(
            name="comment",
            actor=action.actor,
            text=f"Caseflow: {action.name} by {action.actor.username}: {why}",
        )
        closing = self.state in FINAL_STATES
        self._spawn(self._post_to_ticket(ticket, self.seq, note, public=False, close=closing))

    async def _post_to_ticket(
        self,
        ticket: ExternalTicket,
        seq: int,
        action: Action,
        *,
        public: bool = True,
        close: bool = False,
    ) -> None:
        """A public comment (and its files) to the ticket, once the ticket exists."""
        await workflow.wait_condition(lambda: not ticket.pending)
        if ticket.ticket_id is None:
            return  # the hand-off failed: the comment stays in Caseflow
        post = TicketPost(
            connector=ticket.connector,
            ticket_id=ticket.ticket_id,
            key=f"{self._wf_id()}:{seq}",
            text=action.text or "",
            public=public,
            files=action.files,
            close=close,
        )
        try:
            pushed = await workflow.execute_activity_method(
                TicketActivities.post_to_ticket,
                post,
                start_to_close_timeout=EXTERNAL_STEP,
                retry_policy=EXTERNAL_RETRY,
            )
            if pushed is not None:  # its echo coming back is not a change
                ticket.pushed_status = pushed
        except ActivityError as exc:  # refused: say so in the case, keep going
            async with self.lock:
                why = f"{ticket.connector} refused the comment: {exc.cause or exc}"
                await self._record(
                    self._event("external-post-failed", SYSTEM_ACTOR, self.state, why)
                )

    async def _fetch_articles(self, ticket: ExternalTicket) -> list[TicketChange]:
        assert ticket.ticket_id is not None
        fetch = ArticleFetch(
            connector=ticket.connector,
            ticket_id=ticket.ticket_id,
            request_id=self.start.request_id,
            known=list(ticket.articles),
        )
        try:
            return await workflow.execute_activity_method(
                TicketActivities.fetch_articles,
                fetch,
                start_to_close_timeout=EXTERNAL_STEP,
                retry_policy=ARTICLE_RETRY,
            )
        except ActivityError as exc:
            event = self._event(
                "external-unreadable",
                SYSTEM_ACTOR,
                self.state,
                reason=f"new articles in {ticket.connector} could not be read: {exc.cause or exc}",
            )
            await self._record(event)
            return []

    async def _ticket_article(self, ticket: ExternalTicket, item: TicketChange) -> None:
        if item.external_id is not None:
            if item.external_id in ticket.articles:
                return
            ticket.articles.append(item.external_id)
        event = self._event(f"external-{item.kind}", machine(item), self.state, reason=item.text)
        event.data = {
            "connector": item.connector,
            "ticket_id": item.ticket_id,
            "external_id": item.external_id,
            "files": [f.model_dump() for f in item.files],
            "refused_files": item.refused_files,
        }
        await self._record(event)

    async def _ticket_status(
        self, ticket: ExternalTicket, change: TicketChange, stale: bool
    ) -> None:
        actor = Actor(
            username=f"{change.connector}:{change.author or 'system'}", role=Role.INTEGRATION
        )
        data = {"connector": change.connector, "status": change.status, "order": change.order}
        if stale:
            reason = f"{change.status} is older than {ticket.status}; recorded, not applied"
            event = self._event("external-status", actor, self.state, reason=reason)
            event.data = {**data, "stale": True}
            await self._record(event)
            return
        ticket.status, ticket.meaning, ticket.last_order = (
            change.status,
            change.meaning,
            change.order,
        )
        event = self._event(
            "external-status", actor, self.state, reason=f"ticket is {change.status}"
        )
        event.data = {**data, "meaning": change.meaning}
        await self._record(event)
        finished = change.meaning in FINISHED
        if not (finished and ticket.active and self.line == Line.EXTERNAL):
            return
        ticket.active = False
        reason = f"{change.connector} ticket {ticket.number} {change.status}"
        if ticket.closure == "close_case":
            await self._transition(Action(name="close", actor=actor, reason=reason))
        elif self.state in WORKING and self.hops:
            await self._transition(Action(name="return", actor=actor, reason=reason))

    async def _on_ticket_event(self, change: TicketChange) -> None:
        await workflow.wait_condition(lambda: self.ready)
        # The ticket's link is written before its creation returns: a change can arrive first.
        await workflow.wait_condition(lambda: self.ticket is None or not self.ticket.pending)
        async with self.lock:
            ticket = self.ticket
            judged = verdict(ticket, change)
            if ticket is None or judged in ("duplicate", "other_ticket"):
                return
            remember(ticket, change.event_id)
            before = (self.state, self.line)
            if change.kind == "article":
                for item in await self._fetch_articles(ticket):
                    await self._ticket_article(ticket, item)
            elif change.kind in ("reply", "note"):
                await self._ticket_article(ticket, change)
            elif judged != "echo":
                await self._ticket_status(ticket, change, stale=judged == "stale")
            if (self.state, self.line) != before:  # only a move touches the clocks
                await self._publish_ledger()
