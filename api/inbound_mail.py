"""E-mail in: a message is first kept (its bytes once, a row by its Message-ID — only then
does the gateway say 250), then filed: a machine's message (auto-reply, list, bounce) is
never answered; a reply to one of our e-mails is the customer's reply on that case; anything
else registers a request through the API's own intake, with the `email` channel.

Filing is idempotent: the request's Idempotency-Key and the reply's update id are the
message's key, so a message filed twice (a crash between the two steps, a delivery repeated)
opens one case and replies once. An edge like the API and the console: the gateway process
(`caseflow mail-gateway`) files what it receives and what the mailboxes' pollers kept."""

from __future__ import annotations

import json
import logging
import mimetypes
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api import inbound_senders
from api.actions import perform
from api.inbound_senders import Intake
from api.problems import Problem
from api.routes.requests import RequestIn, register
from api.state import AppState
from caseflow.customers import contacts
from caseflow.mail import inbound, topic_rules
from caseflow.mail.inbound import Inbound
from caseflow.models import (
    CustomerContact,
    InboundMessage,
    Notification,
    Request,
    RequestEvent,
    User,
)
from caseflow.payloads import MailFacts
from caseflow.people.store import upsert_user
from caseflow.requests.files import FileRefused
from caseflow.requests.lifecycle import Role
from caseflow.tickets import store as tickets

log = logging.getLogger("caseflow.mail.inbound")
GATEWAY = "mail-gateway"  # the integration account mail is filed as


async def gateway_user(db: AsyncSession) -> User:
    found = await db.scalar(select(User).where(User.username == GATEWAY))
    if found is not None:
        return found
    try:
        found = await upsert_user(
            db, username=GATEWAY, role=Role.INTEGRATION, full_name="Входящая почта"
        )
        await db.commit()
    except IntegrityError:  # made a moment ago for another message
        await db.rollback()
        found = await db.scalar(select(User).where(User.username == GATEWAY))
        assert found is not None
    return found


async def file(
    state: AppState, message_id: int, intake: Intake = Intake(), mail: Inbound | None = None
) -> InboundMessage:
    """What the kept message becomes; its row says so (status, kind, request, reason).
    `mail`: the message as `keep` read it, when the caller has it (else it is read again)."""
    async with state.sessions() as db:
        row = await db.get(InboundMessage, message_id)
        if row is None:
            raise LookupError(f"no inbound message {message_id}")
        if row.status != "received":  # filed already
            return row
        if mail is None or mail.key != row.message_key:
            raw = await tickets.file_bytes(db, row.sha256) or b""
            mail = inbound.read(raw, list(row.recipients or []))
        via = row.via  # read now: a rollback below leaves the row unloaded
        user = await gateway_user(db)
        try:
            status, kind, request_id, reason = await _file(db, state, user, mail, intake, via)
        except Problem as exc:  # refused by the intake or the case: kept, and said why
            await db.rollback()
            status, kind, request_id, reason = "failed", None, None, f"{exc.code}: {exc.detail}"
        row = await db.get(InboundMessage, message_id)
        assert row is not None
        row.status, row.kind, row.request_id = status, kind, request_id
        row.reason, row.filed_at = (reason or None), datetime.now(UTC)
        await db.commit()
        log.info("mail %s: %s %s %s", row.message_key, status, kind or "", reason or "")
        return row


async def pending(state: AppState, limit: int = 100) -> list[tuple[int, str]]:
    """Messages kept but not filed yet, and where each came from: a mailbox's poller keeps
    and leaves the filing here; a gateway stopped between the two steps left them."""
    async with state.sessions() as db:
        found = await db.execute(
            select(InboundMessage.id, InboundMessage.via)
            .where(InboundMessage.status == "received")
            .order_by(InboundMessage.id)
            .limit(limit)
        )
        return [(message_id, via) for message_id, via in found]


async def _file(
    db: AsyncSession, state: AppState, user: User, mail: Inbound, intake: Intake, via: str
) -> tuple[str, str | None, str | None, str]:
    if mail.unreadable or not mail.sender:
        return "failed", "unreadable", None, mail.unreadable or "no sender (From)"
    ours = await db.scalar(
        select(Notification.message_id).where(Notification.message_id == mail.message_id)
    )
    if mail.message_id and ours:
        return "ignored", "automatic", None, "our own e-mail came back"
    if mail.bounced:
        bounced = await _bounced(db, mail.bounced)
        return "ignored", "bounce", bounced, "a bounce: never answered"
    if mail.automatic:
        return "ignored", "automatic", None, f"{mail.automatic}: never answered"
    case = await _case_of(db, mail)
    if case is not None:
        return await _reply(db, state, user, case, mail)
    flooded = await _flooding(db, state, mail)
    if flooded is not None:
        note = f"Ещё одно письмо от {mail.sender}: {mail.subject}\n\n{mail.text}"
        await perform(
            db, user, state.temporal, flooded, "comment", {"text": note[:20000]},
            key=f"mail:{mail.key}",
        )  # fmt: skip
        limit = state.settings.mail_throttle_messages
        return "noted", "new", flooded.id, f"throttled: more than {limit} new messages in a row"
    return await _new_case(db, state, user, mail, intake, via=via)


async def _flooding(db: AsyncSession, state: AppState, mail: Inbound) -> Request | None:
    """The sender's latest case from e-mail when they wrote more new messages within the
    window than a person would (a loop between two robots, a flood); else None."""
    since = datetime.now(UTC) - state.settings.mail_throttle_window
    recent = list(
        await db.scalars(
            select(InboundMessage.request_id)
            .where(
                InboundMessage.mail_from == mail.sender,
                InboundMessage.kind == "new",
                InboundMessage.received_at >= since,
                InboundMessage.request_id.is_not(None),
            )
            .order_by(InboundMessage.id.desc())
        )
    )
    if len(recent) < state.settings.mail_throttle_messages:
        return None
    found = await db.get(Request, recent[0])
    return found if found is not None and found.state not in ("closed", "cancelled") else None


async def _bounced(db: AsyncSession, message_ids: list[str]) -> str | None:
    """Our e-mails a bounce returns are marked `bounced`; answers their request."""
    rows = list(
        await db.scalars(select(Notification).where(Notification.message_id.in_(message_ids)))
    )
    await db.execute(
        update(Notification)
        .where(Notification.message_id.in_(message_ids))
        .values(status="bounced", error="the recipient's server returned it (bounce)")
    )
    gone = sorted({r.recipient.lower() for r in rows if r.recipient})
    if gone:  # not written to again until the customer's addresses change
        today = datetime.now(UTC).date().isoformat()
        await db.execute(
            update(CustomerContact)
            .where(CustomerContact.kind == "email", CustomerContact.value.in_(gone))
            .values(undeliverable=f"mail came back on {today}")
        )
    return next((r.request_id for r in rows if r.request_id), None)


async def _case_of(db: AsyncSession, mail: Inbound) -> Request | None:
    """The case a reply answers: its case+<id>@ address, else one of our e-mails it names."""
    if mail.case_token:
        found = await db.get(Request, mail.case_token)
        if found is not None:
            return found
    if mail.answers:
        request_id = await db.scalar(
            select(Notification.request_id)
            .where(Notification.message_id.in_(mail.answers), Notification.request_id.is_not(None))
            .limit(1)
        )
        if request_id:
            return await db.get(Request, request_id)
    return None


async def _reply(
    db: AsyncSession, state: AppState, user: User, case: Request, mail: Inbound
) -> tuple[str, str | None, str | None, str]:
    text = mail.text or mail.subject or "(пустое письмо)"
    kept, refused = await _attach(db, state, user, case.id, mail)
    held = await contacts.of(db, [case.customer_id])
    trusted = mail.sender in held[case.customer_id]["email"]
    key = f"mail:{mail.key}"
    if trusted and case.state in ("waiting_customer", "in_progress", "assigned"):
        await perform(
            db, user, state.temporal, case, "customer-reply", {"message": text[:20000]}, key=key
        )
        return "replied", "reply", case.id, "; ".join(refused)
    if trusted and case.state == "resolved" and await _lately(db, case, state):
        await perform(
            db,
            user,
            state.temporal,
            case,
            "reopen",
            {"reason": "the customer replied by e-mail"},
            key=f"{key}:reopen",
        )
        await perform(
            db, user, state.temporal, case, "customer-reply", {"message": text[:20000]}, key=key
        )
        return "replied", "reply", case.id, "; ".join(["reopened by the reply", *refused])
    if case.state in ("closed", "cancelled") or (trusted and case.state == "resolved"):
        return await _new_case(db, state, user, mail, Intake(), follows=case)
    note = f"Письмо от {mail.sender} (не адрес клиента):\n\n{text}" if not trusted else text
    await perform(
        db, user, state.temporal, case, "comment",
        {"text": note[:20000], "files": kept}, key=key,
    )  # fmt: skip
    why = "from an address that is not the customer's: a note, not their answer"
    return "noted", "reply", case.id, "; ".join([why if not trusted else "", *refused]).strip("; ")


async def _lately(db: AsyncSession, case: Request, state: AppState) -> bool:
    """Whether the case was resolved within the reopen window (CASEFLOW_REOPEN_WINDOW)."""
    resolved = await db.scalar(
        select(func.max(RequestEvent.at)).where(
            RequestEvent.request_id == case.id, RequestEvent.to_state == "resolved"
        )
    )
    since = datetime.now(UTC) - state.settings.reopen_window
    return resolved is None or resolved >= since


async def _attach(
    db: AsyncSession, state: AppState, user: User, request_id: str, mail: Inbound
) -> tuple[list[str], list[str]]:
    """The message's files on the request (the upload checks apply): kept and refused."""
    kept, refused = [], []
    for part in mail.attachments:
        declared = part.content_type
        if declared == "application/octet-stream":  # what many mail programs say of any file
            declared = mimetypes.guess_type(part.filename)[0] or declared
        try:
            stored = await tickets.keep_file(
                db, request_id, part.filename, declared, part.data,
                source="email", added_by=user.username,
                max_bytes=state.settings.attachment_max_bytes,
            )  # fmt: skip
        except FileRefused as exc:
            refused.append(f"{part.filename}: refused ({exc})")
            continue
        kept.append(stored.sha256)
    await db.commit()
    case = await db.get(Request, request_id) if refused else None
    if case is not None:  # the case says so, for whoever works it
        note = "Вложения письма не приняты:\n" + "\n".join(refused)
        await perform(
            db, user, state.temporal, case, "comment", {"text": note[:20000]},
            key=f"mail:{mail.key}:refused",
        )  # fmt: skip
    return kept, refused


async def _new_case(
    db: AsyncSession,
    state: AppState,
    user: User,
    mail: Inbound,
    intake: Intake,
    follows: Request | None = None,
    via: str = "",
) -> tuple[str, str | None, str | None, str]:
    customer_id, possible = await inbound_senders.sender_customer(db, state, user, mail, intake)
    text = mail.full_text or mail.subject or "(пустое письмо)"
    if follows is not None:
        text = f"Продолжение обращения {follows.number}.\n\n{text}"
    facts = MailFacts(
        mailbox=via.removeprefix("imap:") if via.startswith("imap:") else None,
        to=mail.to[:20],
        has_attachment=bool(mail.attachments),
    )
    topic, why = intake.topic, []
    if follows is not None:
        topic = follows.topic
    elif (rule := topic_rules.chosen(state.mail_topics, mail.subject, facts)) is not None:
        topic, why = rule.topic, [f"topic {rule.topic} by rule {rule.name}"]
    body = RequestIn(
        customer_id=customer_id,
        channel="email",
        topic=topic,
        subject=(mail.subject or "(без темы)")[:300],
        description=text[:20000],
    )
    answer = await register(
        body, db, user, state.temporal, state.settings, state, f"mail:{mail.key}", mail=facts
    )
    created: dict[str, Any] = json.loads(bytes(answer.body))
    request_id = str(created["id"])
    _, refused = await _attach(db, state, user, request_id, mail)
    reason = [f"follows {follows.number}"] if follows is not None else why
    if possible:  # an unknown sender who may be a customer we know: the agent decides
        await inbound_senders.suggest(db, state, user, request_id, mail, possible)
        reason.append("possibly " + ", ".join(str(p["name"]) for p in possible[:3]))
    return "registered", "new", request_id, "; ".join([*reason, *refused])
