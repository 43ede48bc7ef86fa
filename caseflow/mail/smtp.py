"""Sending one e-mail over SMTP (aiosmtplib), and telling a retry-later answer from a refusal."""

from __future__ import annotations

from dataclasses import dataclass
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, parseaddr

import aiosmtplib

from caseflow.platform.settings import Settings


class SmtpTemporary(Exception):
    """4xx, a dropped connection or a timeout: try again later."""


class SmtpPermanent(Exception):
    """5xx: the server refuses this message; retrying will not help."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str = "none"
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    mail_from: str = "Caseflow <support@caseflow.local>"
    reply_domain: str = "caseflow.local"

    @classmethod
    def of(cls, settings: Settings) -> SmtpConfig:
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            timeout=settings.smtp_timeout,
            mail_from=settings.mail_from,
            reply_domain=settings.reply_domain,
        )


@dataclass(frozen=True)
class Outgoing:
    message_id: str
    to: str
    subject: str
    text: str
    html: str | None
    case_token: str | None = None
    in_reply_to: str | None = None  # the customer's e-mail this one answers


def compose(mail: Outgoing, config: SmtpConfig) -> Message:
    """The e-mail as MIME: text, and HTML as its alternative. Built with the stdlib's
    compat32 classes, which cost a fraction of EmailMessage's header parsing per message."""
    text = MIMEText(mail.text, "plain", "utf-8")
    if mail.html:
        message: Message = MIMEMultipart("alternative")
        message.attach(text)
        message.attach(MIMEText(mail.html, "html", "utf-8"))
    else:
        message = text
    message["Message-ID"] = mail.message_id
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["From"] = _address(config.mail_from)
    message["To"] = mail.to
    message["Subject"] = Header(mail.subject, "utf-8")  # type: ignore[assignment]
    # RFC 3834: automatic mail; well-behaved auto-responders do not answer it.
    message["Auto-Submitted"] = "auto-generated"
    if mail.case_token:
        message["Reply-To"] = f"case+{mail.case_token}@{config.reply_domain}"
    if mail.in_reply_to:
        message["In-Reply-To"] = mail.in_reply_to
        message["References"] = mail.in_reply_to
    return message


def _address(value: str) -> str:
    """`Name <addr>` with a non-ASCII name encoded (RFC 2047)."""
    name, address = parseaddr(value)
    return formataddr((name, address), charset="utf-8") if name else address


def _sender(config: SmtpConfig) -> str:
    address = config.mail_from
    return address[address.find("<") + 1 : address.rfind(">")] if "<" in address else address


class SmtpPool:
    """Open SMTP sessions kept for reuse: no connect, greeting and EHLO per e-mail.

    A session that fails is dropped; a reused one that turns out closed by the server is
    replaced once, before anything was accepted.
    """

    def __init__(self, config: SmtpConfig, size: int = 8) -> None:
        self.config = config
        self.size = size
        self.idle: list[aiosmtplib.SMTP] = []

    async def _open(self) -> aiosmtplib.SMTP:
        config = self.config
        client = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            use_tls=config.security == "tls",
            start_tls=True if config.security == "starttls" else False,
            timeout=config.timeout,
        )
        await client.connect()
        if config.username and config.password:
            await client.login(config.username, config.password)
        return client

    async def deliver(self, message: Message) -> None:
        """Send, or raise SmtpTemporary / SmtpPermanent."""
        reused = bool(self.idle)
        try:
            client = self.idle.pop() if self.idle else await self._open()
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise _classify(exc) from exc
        try:
            errors, _ = await client.sendmail(
                _sender(self.config), [message["To"]], message.as_bytes()
            )
        except aiosmtplib.SMTPServerDisconnected:
            client.close()
            if not reused:
                raise SmtpTemporary("the server closed the connection") from None
            return await self.deliver(message)  # a stale idle session: once more, fresh
        except (aiosmtplib.SMTPException, OSError) as exc:
            client.close()
            raise _classify(exc) from exc
        if len(self.idle) < self.size:
            self.idle.append(client)
        else:
            await client.quit()
        if errors:
            code = min(response.code for response in errors.values())
            raise _by_code(code, f"refused: {errors}")

    async def close(self) -> None:
        while self.idle:
            self.idle.pop().close()


def _classify(exc: Exception) -> Exception:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return _by_code(min((r.code for r in exc.recipients), default=550), str(exc))
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return _by_code(exc.code, exc.message)
    return SmtpTemporary(str(exc) or type(exc).__name__)


def _by_code(code: int, text: str) -> Exception:
    reason = f"{code} {text}".strip()
    return SmtpTemporary(reason) if 400 <= code < 500 else SmtpPermanent(reason)
