"""E-mail activities: post notices to a recipient's notifier, render and send them once.

Sending writes the rendered e-mail into the `notifications` outbox (keyed by a Message-ID
derived from the recipient and the notices) before talking to SMTP, so a retried or
restarted activity sends what was rendered first, and never a second time once sent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jinja2 import TemplateError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from caseflow.mail import outbox, recipients
from caseflow.mail.context import Batch, Notice, NotifierStart, Sent
from caseflow.mail.smtp import (
    Outgoing,
    SmtpConfig,
    SmtpPermanent,
    SmtpPool,
    SmtpTemporary,
    compose,
)
from caseflow.mail.templates import LOCALES, MailTemplates, Rendered, TemplateMissing
from caseflow.models import Notification
from caseflow.platform.db import transaction
from caseflow.requests.topics import TopicBook


@dataclass
class NoticePoster:
    """Signal-with-start of the recipient's notifier (`notify-<recipient>`)."""

    client: Client
    task_queue: str
    window: timedelta
    give_up_after: timedelta = timedelta(days=2)

    async def post(self, recipient_key: str, notice: Notice) -> None:
        start = NotifierStart(
            recipient_key=recipient_key, window=self.window, give_up_after=self.give_up_after
        )
        await self.client.start_workflow(
            "NotifierWorkflow",
            start,
            id=f"notify-{recipient_key}",
            task_queue=self.task_queue,
            start_signal="notice",
            start_signal_args=[notice],
        )


def message_id_of(batch: Batch, domain: str) -> str:
    keys = "|".join([batch.recipient_key, *sorted(n.key for n in batch.notices)])
    return f"<{hashlib.sha256(keys.encode()).hexdigest()[:40]}@{domain}>"


class NotificationActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        templates: MailTemplates,
        smtp: SmtpConfig,
        topics: TopicBook,
        default_locale: str = "ru",
    ) -> None:
        self.sessions = sessions
        self.templates = templates
        self.smtp = smtp
        self.topics = topics
        self.default_locale = default_locale
        self.pool = SmtpPool(smtp)

    @activity.defn
    async def send_notification(self, batch: Batch) -> Sent:
        """One transaction before SMTP (the outbox row found or rendered and written, marked
        handed over, and what the e-mail answers) and one after (the server's answer)."""
        message_id = message_id_of(batch, self.smtp.reply_domain)
        answered: str | None = None
        problem: str | None = None
        doubt = False
        async with transaction(self.sessions) as session:
            # A retry (SMTP down: every 30 s for days) finds its row and renders nothing.
            row = await outbox.kept(session, message_id)
            fresh = False
            if row is None:
                row, problem, fresh = await self._write(session, batch, message_id)
            if not fresh and row.status == "pending":  # an earlier attempt's row
                doubt = await outbox.hand_over_again(session, row)
            if row.status == "pending":
                answered = await outbox.answering(session, row.request_id)
        if problem:  # the failed row is kept: the floor shows it
            raise ApplicationError(problem, type="template_error", non_retryable=True)
        if row.status != "pending":
            return Sent(message_id=message_id, status=row.status, detail=row.error or "")
        return await self._deliver(row, answered, doubt)

    @activity.defn
    async def resend_notification(self, message_id: str) -> Sent:
        """A failed e-mail once more, as it was rendered, under its own Message-ID (the
        reader's client shows one message, whichever copy arrives)."""
        answered: str | None = None
        async with transaction(self.sessions) as session:
            row, doubt = await outbox.resend(session, message_id)
            if row is not None and row.status == "pending":
                answered = await outbox.answering(session, row.request_id)
        if row is None:
            raise ApplicationError(f"no e-mail {message_id}", type="unknown_notification")
        if row.status in ("sent", "skipped"):
            return Sent(message_id=message_id, status=row.status, detail=row.error or "")
        return await self._deliver(row, answered, doubt)  # as committed (no expiry on commit)

    @activity.defn
    async def resend_failed(self, message_id: str) -> None:
        """Retries of a resend are used up: failed again (unless it went out after all)."""
        async with transaction(self.sessions) as session:
            await outbox.fail_pending(session, message_id)

    async def _deliver(self, row: Notification, answered: str | None, doubt: bool) -> Sent:
        """`answered`: the customer's e-mail this one answers (In-Reply-To), if any; `doubt`:
        an earlier attempt was cut off after handing it over, so a second copy (under the
        same Message-ID, which mail programs show once) may arrive — the row says so."""
        message_id = row.message_id
        mail = Outgoing(
            message_id=message_id,
            to=row.recipient or "",
            subject=row.subject or "",
            text=row.text or "",
            html=row.html,
            case_token=row.request_id,
            in_reply_to=answered,
        )
        try:
            await self.pool.deliver(compose(mail, self.smtp))
        except SmtpPermanent as exc:
            await self._update(message_id, status="failed", error=str(exc), handed_at=None)
            raise ApplicationError(str(exc), type="smtp_refused", non_retryable=True) from exc
        except SmtpTemporary as exc:
            await self._update(message_id, error=str(exc), handed_at=None)
            raise ApplicationError(str(exc), type="smtp_temporary") from exc
        await self._update(
            message_id,
            status="sent",
            error=outbox.IN_DOUBT if doubt else None,
            sent_at=datetime.now(UTC),
            handed_at=None,
        )
        return Sent(message_id=message_id, status="sent")

    @activity.defn
    async def notification_failed(self, batch: Batch) -> None:
        """Retries are used up: the e-mail is marked failed (unless it went out after all)."""
        message_id = message_id_of(batch, self.smtp.reply_domain)
        async with transaction(self.sessions) as session:
            await outbox.fail_pending(session, message_id)

    async def _update(self, message_id: str, **values: Any) -> None:
        async with transaction(self.sessions) as session:
            await outbox.mark(session, message_id, **values)

    async def _write(
        self, session: AsyncSession, batch: Batch, message_id: str
    ) -> tuple[Notification, str | None, bool]:
        """Render the e-mail and put it in the outbox, before anything is sent (in the
        caller's transaction): the row, the template's problem when it cannot be rendered,
        and whether the row is new (not an earlier attempt's)."""
        row = Notification(
            message_id=message_id,
            recipient_key=batch.recipient_key,
            request_id=next((n.request_id for n in batch.notices if n.request_id), None),
            events=[n.event for n in batch.notices],
            notice_keys=[n.key for n in batch.notices],
            importance="critical"
            if any(n.importance == "critical" for n in batch.notices)
            else "normal",
            status="pending",
            attempts=1,
            first_notice_at=min(n.at for n in batch.notices),
            batched_at=batch.batched_at,
        )
        problem: str | None = None
        try:
            await self._render_into(session, row, batch)
        except (TemplateError, TemplateMissing) as exc:
            row.status, row.error = "failed", f"template: {exc}"
            problem = row.error
        if batch.skip and row.status != "skipped":
            row.status, row.error, problem = "skipped", batch.skip, None
        if row.status == "pending":
            row.handed_at = datetime.now(UTC)  # handed to SMTP right after this commits
        kept, fresh = await outbox.keep(session, row)
        return kept, problem if fresh else None, fresh

    async def _render_into(self, session: AsyncSession, row: Notification, batch: Batch) -> None:
        kind, _, ident = batch.recipient_key.partition(":")
        if kind == "customer":
            to = await recipients.customer(session, ident, row.request_id, self._locale)
        else:
            to = await recipients.staff(session, ident, self.default_locale)
        if to is None:
            row.status, row.error = "skipped", "no e-mail address on file"
            return
        base, locale = to.values, to.locale
        row.customer_id, row.recipient, row.locale = to.customer_id, to.email, locale
        singles: list[tuple[Notice, Rendered, dict[str, Any]]] = []
        for notice in batch.notices:
            values = {**base, **notice.data, "event": notice.data}
            if notice.request_id:
                facts = await recipients.request_facts(
                    session, notice.request_id, notice.data.get("assignee"), self.topics, locale
                )
                if facts is None:
                    raise ApplicationError(
                        f"no request {notice.request_id}", type="unknown_request"
                    )
                values["request"] = facts.model_dump()
            singles.append(
                (notice, self.templates.render(notice.event, notice.topic, locale, values), values)
            )
        if len(singles) == 1:
            rendered = singles[0][1]
        else:
            items = self.templates.digest_items([(n.event, r, v) for n, r, v in singles])
            rendered = self.templates.render("digest", None, locale, {**base, "items": items})
        row.template, row.subject, row.text, row.html = (
            rendered.template,
            rendered.subject,
            rendered.text,
            rendered.html,
        )

    def _locale(self, value: str | None) -> str:
        language = (value or self.default_locale).replace("-", "_").split("_")[0].lower()
        return language if language in LOCALES else self.default_locale
