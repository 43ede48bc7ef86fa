"""Activities of the request lifecycle: register, assign, project events into the read model."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.notifications import NoticePoster
from caseflow.mail.notices import (
    assignee_notice,
    breach_notice,
    breach_tells_supervisors,
    customer_event,
    customer_notice,
)
from caseflow.models import Absence
from caseflow.payloads import (
    AbsenceStart,
    AssignInput,
    Assignment,
    EventRecord,
    RecordedStep,
    Registered,
    RegisterInput,
    RequestStart,
    SlaChoice,
)
from caseflow.people.store import unstarted_requests, zone_supervisors
from caseflow.platform.db import transaction
from caseflow.requests import store as cases
from caseflow.requests.lifecycle import State
from caseflow.requests.topics import TopicBook
from caseflow.routing import assignment
from caseflow.routing.decide import decide
from caseflow.routing.rulebook import RuleHolder
from caseflow.sla import ledger as sla_ledger
from caseflow.sla.policies import SlaBook
from caseflow.sla.terms import SlaLedger, SlaTerms


@contextmanager
def business_errors() -> Iterator[None]:
    """Unknown queues and people are the caller's mistake: retrying cannot fix them."""
    try:
        yield
    except assignment.UnknownQueue as exc:
        raise ApplicationError(
            f"no queue '{exc}'", type="unknown_queue", non_retryable=True
        ) from exc
    except assignment.UnknownAssignee as exc:
        raise ApplicationError(
            f"no active user '{exc}'", type="unknown_assignee", non_retryable=True
        ) from exc


def first_ledger(data: RegisterInput, assigned: Assignment, terms: SlaTerms) -> SlaLedger:
    """The clocks a request starts with, exactly as its workflow opens them."""
    clocks = terms.first_clocks(
        line=assigned.line, at=data.at, queue=assigned.queue, assignee=assigned.assignee
    )
    calendar = terms.calendar.build()
    return SlaLedger(
        workflow_id=data.workflow_id,
        request_id=data.request.request_id,
        seq=data.assign.event.seq,
        at=data.at,
        open=True,
        clocks=[clock.status(calendar, data.at) for clock in clocks],
    )


class RequestActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        rules: RuleHolder,
        sla: SlaBook | None = None,
        poster: NoticePoster | None = None,
        topics: TopicBook | None = None,
    ) -> None:
        self.sessions = sessions
        self.rules = rules
        self.sla = sla
        self.poster = poster
        self.topics = topics or TopicBook(topics={})

    @activity.defn
    async def sla_terms(self, request: RequestStart) -> SlaChoice:
        """The SLA policy that applies to the request as it is now (priority included)."""
        if self.sla is None:
            return SlaChoice()
        return SlaChoice(terms=self.sla.policy_for(self.rules.current.facts(request)).terms())

    @activity.defn
    async def register_request(self, data: RegisterInput) -> Registered:
        """Number the request, assign it and write its first SLA ledger in one transaction:
        all happen, or none."""
        terms = (await self.sla_terms(data.request)).terms
        with business_errors():
            async with transaction(self.sessions) as session:
                earlier = await cases.registered(session, data.workflow_id)
                if earlier is not None:
                    number, assigned = earlier
                else:
                    assigned = await decide(session, data.assign, self.rules)
                    number = await cases.register(session, data, assigned)
                if terms is not None:
                    ledger = first_ledger(data, assigned, terms)
                    await sla_ledger.record(session, ledger, first=earlier is None)
        # Posted after the commit (a retry posts again; notifiers drop repeated keys).
        registered = cases.registration_event(data)
        assigned_event = data.assign.event.model_copy(update={"assignee": assigned.assignee})
        # One after the other: a critical topic's two e-mails go out in this order.
        for event in (registered, assigned_event):
            await self._announce(event, data.request.customer.id, data.request.topic)
        return Registered(number=number, registered_at=data.at, assignment=assigned, sla=terms)

    @activity.defn
    async def assign_request(self, data: AssignInput) -> Assignment:
        with business_errors():
            async with transaction(self.sessions) as session:
                return await self._assign(session, data)

    async def _assign(self, session: AsyncSession, data: AssignInput) -> Assignment:
        """Route, pick the agent and write the event; a repeat returns the first decision."""
        done = await cases.event_exists(session, data.event.workflow_id, data.event.seq)
        if done is not None:
            return Assignment.model_validate(done.data["assignment"])
        result = await decide(session, data, self.rules)
        to_state = State.ASSIGNED if result.assignee else State.REGISTERED
        event = data.event.model_copy(
            update={
                "line": result.line,
                "queue": result.queue,
                "assignee": result.assignee,
                "to_state": to_state,
                "assignment": result,
            }
        )
        await cases.project(session, event)
        return result

    @activity.defn
    async def unstarted_requests(self, absence: AbsenceStart) -> list[str]:
        async with self.sessions() as session:
            if await session.get(Absence, absence.absence_id) is None:
                return []  # the absence was withdrawn (or never committed)
            return await unstarted_requests(session, absence.username)

    @activity.defn
    async def record_request_event(self, event: EventRecord) -> None:
        """A step's event alone (its ledger follows, or it has none)."""
        await self._write(RecordedStep(events=[event]))

    def _mailed(self, event: EventRecord) -> bool:
        """Whether anyone is mailed about this step (most steps stop at the projection)."""
        return self.poster is not None and (
            customer_event(event) is not None
            or breach_tells_supervisors(event)
            or assignee_notice(event) is not None
        )

    @staticmethod
    async def _supervisors(session: AsyncSession, event: EventRecord) -> list[str]:
        """For a breach, the zone's supervisors (told as well as the customer and assignee)."""
        return (
            await zone_supervisors(session, event.queue) if breach_tells_supervisors(event) else []
        )

    async def _announce(
        self, event: EventRecord, customer_id: str, topic: str, supervisors: Sequence[str] = ()
    ) -> None:
        """Tell the customer's (and supervisors') notifiers about this step, if they care."""
        if self.poster is None:
            return
        found = [customer_notice(event, customer_id, topic, self.topics), assignee_notice(event)]
        found += [breach_notice(event, name) for name in supervisors]
        poster = self.poster
        await asyncio.gather(*(poster.post(to, notice) for to, notice in filter(None, found)))

    @activity.defn
    async def record_sla_ledger(self, ledger: SlaLedger) -> None:
        """The ledger alone (a step whose event was written first, or that has none)."""
        await self._write(RecordedStep(events=[], ledger=ledger))

    @activity.defn
    async def record_step(self, step: RecordedStep) -> None:
        """A step's events and its ledger in one transaction."""
        await self._write(step)

    async def _write(self, step: RecordedStep) -> None:
        """What every recording activity does: the events and the ledger in one transaction
        (each idempotent on its seq, so a retry writes nothing twice), then whoever cares
        about the events is told. Only steps someone is mailed about read their request's
        customer and topic (once: a step's events are one request's) and, for a breach, the
        supervisors: most stop at the projection."""
        mailed = [event for event in step.events if self._mailed(event)]
        async with transaction(self.sessions) as session:
            for event in step.events:
                await cases.project(session, event)
            if step.ledger is not None:
                await sla_ledger.record(session, step.ledger)
            if not mailed:
                return
            about = await cases.customer_and_topic(session, mailed[0].request_id)
            found = [await self._supervisors(session, event) for event in mailed]
        if about is not None:
            for event, supervisors in zip(mailed, found, strict=True):
                await self._announce(event, *about, supervisors)
