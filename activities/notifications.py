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
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from caseflow.mail.context import (
    Addressee,
    AddressForm,
    Batch,
    Notice,
    NotifierStart,
    RequestFacts,
    Sent,
    salutation,
)
from caseflow.mail.smtp import (
    Outgoing,
    SmtpConfig,
    SmtpPermanent,
    SmtpPool,
    SmtpTemporary,
    compose,
)
from caseflow.mail.templates import LOCALES, MailTemplates, Rendered, TemplateMissing
from caseflow.models import (
    Customer,
    CustomerContact,
    Notification,
    Representative,
    Request,
    SlaClock,
    User,
)
from caseflow.platform.db import transaction
from caseflow.requests.topics import TopicBook

DEFAULT_ZONE = "Europe/Moscow"


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
        message_id = message_id_of(batch, self.smtp.reply_domain)
        async with self.sessions() as session:
            row = await session.get(Notification, message_id)
        if row is None:
            row = await self._write(batch, message_id)  # counts this first attempt
        elif row.status == "pending":
            await self._update(message_id, attempts=Notification.attempts + 1)
        if row.status != "pending":
            return Sent(message_id=message_id, status=row.status, detail=row.error or "")
        return await self._deliver(row)

    @activity.defn
    async def resend_notification(self, message_id: str) -> Sent:
        """A failed e-mail once more, as it was rendered, under its own Message-ID (the
        reader's client shows one message, whichever copy arrives)."""
        async with transaction(self.sessions) as session:
            row = await session.get(Notification, message_id)
            if row is None:
                raise ApplicationError(f"no e-mail {message_id}", type="unknown_notification")
            if row.status in ("sent", "skipped"):
                return Sent(message_id=message_id, status=row.status, detail=row.error or "")
            row.status, row.attempts = "pending", row.attempts + 1
        return await self._deliver(row)  # the row as committed (expire_on_commit is off)

    @activity.defn
    async def resend_failed(self, message_id: str) -> None:
        """Retries of a resend are used up: failed again (unless it went out after all)."""
        async with transaction(self.sessions) as session:
            await session.execute(
                update(Notification)
                .where(Notification.message_id == message_id, Notification.status == "pending")
                .values(status="failed")
            )

    async def _deliver(self, row: Notification) -> Sent:
        message_id = row.message_id
        mail = Outgoing(
            message_id=message_id,
            to=row.recipient or "",
            subject=row.subject or "",
            text=row.text or "",
            html=row.html,
            case_token=row.request_id,
        )
        try:
            await self.pool.deliver(compose(mail, self.smtp))
        except SmtpPermanent as exc:
            await self._update(message_id, status="failed", error=str(exc))
            raise ApplicationError(str(exc), type="smtp_refused", non_retryable=True) from exc
        except SmtpTemporary as exc:
            await self._update(message_id, error=str(exc))
            raise ApplicationError(str(exc), type="smtp_temporary") from exc
        await self._update(message_id, status="sent", error=None, sent_at=datetime.now(UTC))
        return Sent(message_id=message_id, status="sent")

    @activity.defn
    async def notification_failed(self, batch: Batch) -> None:
        """Retries are used up: the e-mail is marked failed (unless it went out after all)."""
        message_id = message_id_of(batch, self.smtp.reply_domain)
        async with transaction(self.sessions) as session:
            await session.execute(
                update(Notification)
                .where(Notification.message_id == message_id, Notification.status == "pending")
                .values(status="failed")
            )

    async def _update(self, message_id: str, **values: Any) -> None:
        async with transaction(self.sessions) as session:
            await session.execute(
                update(Notification).where(Notification.message_id == message_id).values(**values)
            )

    async def _write(self, batch: Batch, message_id: str) -> Notification:
        """Render the e-mail and put it in the outbox, before anything is sent."""
        async with self.sessions() as session:
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
        async with transaction(self.sessions) as session:
            try:
                session.add(row)
                await session.flush()
            except IntegrityError:
                await session.rollback()
                existing = await session.get(Notification, message_id)
                assert existing is not None
                return existing
        if problem:
            raise ApplicationError(problem, type="template_error", non_retryable=True)
        return row

    async def _render_into(self, session: AsyncSession, row: Notification, batch: Batch) -> None:
        kind, _, ident = batch.recipient_key.partition(":")
        base: dict[str, Any]
        if kind == "customer":
            email_of = (
                select(CustomerContact.value)
                .where(CustomerContact.customer_id == Customer.id, CustomerContact.kind == "email")
                .limit(1)
                .scalar_subquery()
            )
            found = (
                await session.execute(select(Customer, email_of).where(Customer.id == ident))
            ).first()
            customer, email = found if found is not None else (None, None)
            person = await self._contact_person(session, row.request_id, ident)
            if person is not None and person.email:
                email = person.email
            if customer is None or email is None:
                row.status, row.error = "skipped", "no e-mail address on file"
                return
            locale = self._locale(customer.locale)
            row.customer_id, row.recipient, row.locale = customer.id, email, locale
            base = {
                "customer": self._addressee(customer, email, locale, person).model_dump(),
                "timezone": customer.timezone or DEFAULT_ZONE,
            }
        else:
            user = await session.scalar(select(User).where(User.username == ident))
            if user is None or not user.email:
                row.status, row.error = "skipped", "no e-mail address on file"
                return
            locale = self.default_locale
            row.recipient, row.locale = user.email, locale
            base = {
                "recipient": {
                    "name": user.full_name,
                    "salutation": salutation(locale, name=user.full_name, form="informal"),
                },
                "timezone": DEFAULT_ZONE,
            }
        singles: list[tuple[Notice, Rendered, dict[str, Any]]] = []
        for notice in batch.notices:
            values = {**base, **notice.data, "event": notice.data}
            if notice.request_id:
                values["request"] = (await self._request(session, notice, locale)).model_dump()
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

    @staticmethod
    async def _contact_person(
        session: AsyncSession, request_id: str | None, customer_id: str
    ) -> Representative | None:
        """The representative who raised the request, if it names one of this customer's."""
        if request_id is None:
            return None
        return await session.scalar(
            select(Representative).where(
                Representative.id
                == select(Request.contact_id).where(Request.id == request_id).scalar_subquery(),
                Representative.customer_id == customer_id,
            )
        )

    @staticmethod
    def _addressee(
        customer: Customer, email: str, locale: str, person: Representative | None = None
    ) -> Addressee:
        company = customer.kind == "organization"
        form: AddressForm = "informal" if customer.address_form == "informal" else "formal"
        if person is not None and person.email:
            # Written to the person who called, by their name; gender unknown: neutral.
            return Addressee(
                name=person.name,
                salutation=salutation(locale, name=person.name, form=form),
                organisation=customer.name if company else None,
                email=email,
            )
        name = customer.address_name or (customer.contact_person if company else customer.name)
        return Addressee(
            name=name or customer.name,
            salutation=salutation(locale, name=name, form=form, gender=customer.gender),
            organisation=customer.name if company else None,
            email=email,
        )

    async def _request(self, session: AsyncSession, notice: Notice, locale: str) -> RequestFacts:
        def due_of(kind: str) -> Any:
            return (
                select(SlaClock.due_at)
                .where(
                    SlaClock.request_id == Request.id,
                    SlaClock.kind == kind,
                    SlaClock.stopped_at.is_(None),
                )
                .order_by(SlaClock.segment.desc())
                .limit(1)
                .scalar_subquery()
            )

        assignee = notice.data.get("assignee")
        name_of = (
            select(User.full_name)
            .where(User.username == func.coalesce(assignee, Request.assignee))
            .scalar_subquery()
        )
        found = (
            await session.execute(
                select(Request, name_of, due_of("first_response"), due_of("resolution")).where(
                    Request.id == notice.request_id
                )
            )
        ).first()
        if found is None:
            raise ApplicationError(f"no request {notice.request_id}", type="unknown_request")
        request, name, response_due, resolution_due = found
        return RequestFacts(
            id=request.id,
            number=request.number,
            subject=request.subject,
            topic=request.topic,
            topic_title=self.topics.title(request.topic, locale),
            state=request.state,
            registered_at=request.created_at,
            assignee_name=name,
            response_due=response_due,
            resolution_due=resolution_due,
        )
