"""Activities of external ticketing: open a ticket once, post comments once, read changes.

A connector's failure to answer is retried by Temporal with backoff (`TicketSystemDown`
propagates); a refusal (`TicketRejected`) is non-retryable and reaches the workflow.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.connectors import connector_for
from activities.connectors.base import Incoming, TicketRejected, TicketSystem, Upload
from activities.connectors.rt import RtConnector
from caseflow.platform.db import transaction
from caseflow.requests.files import MAX_BYTES, FileRefused
from caseflow.tickets import store
from caseflow.tickets.connectors import (
    ArticleFetch,
    ConnectorConfig,
    Delivery,
    Polled,
    PollInput,
    Signalled,
    TicketChange,
    Ticketing,
    TicketLink,
    TicketOrder,
    TicketPost,
    TicketRef,
)


@contextmanager
def refusals() -> Iterator[None]:
    """A refusal cannot be fixed by retrying: say so to Temporal."""
    try:
        yield
    except TicketRejected as exc:
        raise ApplicationError(str(exc), type="ticket_rejected", non_retryable=True) from exc


async def stored_change(
    session: AsyncSession,
    config: ConnectorConfig,
    item: Incoming,
    request_id: str,
    max_bytes: int,
) -> TicketChange:
    """A found change as the workflow gets it: files kept, status meaning mapped."""
    change = TicketChange(
        connector=config.name,
        ticket_id=item.ticket_id,
        event_id=item.event_id,
        order=item.order,
        kind=item.kind,
        at=item.at,
        status=item.status,
        status_type=item.status_type,
        author=item.author,
        text=item.text,
        external_id=item.external_id,
        meaning=config.meaning(item.status, item.status_type),
    )
    for upload in item.files:
        try:
            change.files.append(
                await store.keep_file(
                    session,
                    request_id,
                    upload.filename,
                    upload.content_type,
                    upload.data,
                    source=config.name,
                    added_by=item.author,
                    max_bytes=max_bytes,
                )
            )
        except FileRefused as exc:
            change.refused_files.append(str(exc))
    return change


class TicketActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        ticketing: Ticketing,
        http: httpx.AsyncClient | None = None,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self.sessions = sessions
        self.ticketing = ticketing
        self.http = http or httpx.AsyncClient()
        self.max_bytes = max_bytes

    def _config(self, name: str) -> ConnectorConfig:
        config = self.ticketing.get(name)
        if config is None:
            raise ApplicationError(
                f"no connector '{name}'", type="unknown_connector", non_retryable=True
            )
        return config

    def _system(self, name: str) -> TicketSystem:
        return connector_for(self._config(name), self.http)

    @activity.defn
    async def open_ticket(self, order: TicketOrder) -> TicketRef:
        """On a retry, look the ticket up by the Caseflow reference first: a timed-out
        attempt may have created it. Then link it to the request, so changes coming back
        find the case."""
        config = self._config(order.connector)
        system = self._system(order.connector)
        with refusals():
            # Only an earlier attempt can have made it (say, one that timed out after the
            # system had created the ticket): the first attempt spares the search.
            earlier = activity.info().attempt > 1
            ref = await system.find(order.ref) if earlier else None
            if ref is None:
                ref = await system.create(order, [])
        ref.closure = config.closure_for(order.topic)
        async with transaction(self.sessions) as session:
            await store.link(
                session,
                TicketLink(
                    connector=order.connector,
                    ticket_id=ref.ticket_id,
                    number=ref.number,
                    request_id=order.request_id,
                    workflow_id=order.workflow_id,
                    ref=order.ref,
                ),
            )
        return ref

    @activity.defn
    async def post_to_ticket(self, post: TicketPost) -> str | None:
        """Send a Caseflow comment and its files (a post already made is not made again);
        with `close`, then set the connector's close status. Returns the status set."""
        config = self._config(post.connector)
        system = self._system(post.connector)
        async with self.sessions() as session:
            done = await store.post_done(session, post.key) is not None
            uploads = []
            for stored in [] if done else post.files:
                data = await store.file_bytes(session, stored.sha256)
                if data is not None:
                    uploads.append(Upload(stored.filename, stored.content_type, data))
        with refusals():
            if not done:
                article = await system.post(
                    post.ticket_id, post.text, public=post.public, files=uploads
                )
                async with transaction(self.sessions) as session:
                    await store.record_post(
                        session, post.key, post.connector, post.ticket_id, article
                    )
            if post.close and config.close_status:
                await system.set_status(post.ticket_id, config.close_status)
                return config.close_status
        return None

    @activity.defn
    async def fetch_articles(self, fetch: ArticleFetch) -> list[TicketChange]:
        """Replies and notes the ticket has and the case has not, files kept."""
        config = self._config(fetch.connector)
        system = self._system(fetch.connector)
        async with self.sessions() as session:
            known = set(fetch.known) | await store.own_articles(
                session, fetch.connector, fetch.ticket_id
            )
        with refusals():
            found = await system.articles(fetch.ticket_id, known)
        async with transaction(self.sessions) as session:
            return [
                await stored_change(session, config, item, fetch.request_id, self.max_bytes)
                for item in found
            ]

    @activity.defn
    async def poll_tickets(self, data: PollInput) -> Polled:
        """Request Tracker: changes of linked, open tickets after the cursor, recorded once;
        returned until their signal is confirmed (`mark_signalled`)."""
        config = self._config(data.connector)
        system = self._system(data.connector)
        if not isinstance(system, RtConnector):
            raise ApplicationError(
                f"{data.connector} is not polled", type="unknown_connector", non_retryable=True
            )
        # RT reads TicketSQL dates in its own time zone (whole seconds): written in it.
        started = datetime.now(ZoneInfo(config.timezone)).strftime("%Y-%m-%d %H:%M:%S")
        async with self.sessions() as session:
            links = await store.open_links(session, data.connector)
        result = Polled(since=started, txn=data.txn)
        with refusals():
            # A new poller reads every open linked ticket once; then only those RT changed.
            changed = (
                set(links) if data.since is None else set(await system.updated_since(data.since))
            )
            for ticket_id in sorted(changed & set(links), key=int):
                link = links[ticket_id]
                found = await system.changes(ticket_id, data.txn)
                async with transaction(self.sessions) as session:
                    for item in found:
                        change = await stored_change(
                            session, config, item, link.request_id, self.max_bytes
                        )
                        new = await store.record_change(session, change, link.request_id)
                        if new or await store.unsignalled(session, config.name, change.event_id):
                            result.deliveries.append(
                                Delivery(workflow_id=link.workflow_id, change=change)
                            )
                        result.txn = max(result.txn, int(item.order))
        return result

    @activity.defn
    async def mark_signalled(self, data: Signalled) -> None:
        async with transaction(self.sessions) as session:
            await store.mark_signalled(session, data.connector, data.event_ids)
