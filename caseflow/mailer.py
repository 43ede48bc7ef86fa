"""Sending one e-mail over SMTP (aiosmtplib), and telling a retry-later answer from a refusal."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from caseflow.settings import Settings


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


def compose(mail: Outgoing, config: SmtpConfig) -> EmailMessage:
    message = EmailMessage()
    message["Message-ID"] = mail.message_id
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["From"] = config.mail_from
    message["To"] = mail.to
    message["Subject"] = mail.subject
    # RFC 3834: automatic mail; well-behaved auto-responders do not answer it.
    message["Auto-Submitted"] = "auto-generated"
    if mail.case_token:
        message["Reply-To"] = f"case+{mail.case_token}@{config.reply_domain}"
    message.set_content(mail.text)
    if mail.html:
        message.add_alternative(mail.html, subtype="html")
    return message


def _sender(config: SmtpConfig) -> str:
    address = config.mail_from
    return address[address.find("<") + 1 : address.rfind(">")] if "<" in address else address


async def deliver(message: EmailMessage, config: SmtpConfig) -> None:
    """Send, or raise SmtpTemporary / SmtpPermanent."""
    try:
        errors, _ = await aiosmtplib.send(
            message,
            sender=_sender(config),
            hostname=config.host,
            port=config.port,
            username=config.username,
            password=config.password,
            use_tls=config.security == "tls",
            start_tls=True if config.security == "starttls" else False,
            timeout=config.timeout,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        raise _by_code(min(codes, default=550), str(exc)) from exc
    except aiosmtplib.SMTPResponseException as exc:
        raise _by_code(exc.code, exc.message) from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise SmtpTemporary(str(exc) or type(exc).__name__) from exc
    refused = {address: response for address, response in errors.items()}
    if refused:
        code = min(response.code for response in refused.values())
        raise _by_code(code, f"refused: {refused}")


def _by_code(code: int, text: str) -> Exception:
    reason = f"{code} {text}".strip()
    return SmtpTemporary(reason) if 400 <= code < 500 else SmtpPermanent(reason)
