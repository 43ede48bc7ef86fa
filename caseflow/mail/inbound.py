"""Reading an e-mail that came in: who wrote, to which case it answers, whether a machine
wrote it (an auto-reply, a list, a bounce), its readable text and its files. Whatever the
bytes, reading never raises: a message that cannot be parsed is `unreadable`, with why.

Plain functions over the stdlib's `email` package: the gateway and the mailbox poller file
what this module reads."""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from email.utils import getaddresses, parseaddr
from typing import Any

import nh3

from caseflow.mail import tnef

CASE_ADDRESS = re.compile(r"case\+([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@",
                          re.IGNORECASE)  # fmt: skip
MESSAGE_IDS = re.compile(r"<[^<>\s]+>")
# Where the history of a reply begins: quoted lines, "On … wrote:", Outlook's separator, a
# signature.
HISTORY = re.compile(
    r"^(>|-{2,} ?Original Message|-{5,}|_{5,}|On .{0,200} wrote:|.{0,200} писал\(а\):|"
    r"\d{1,2}\.\d{1,2}\.\d{2,4}.{0,80}пишет:|-- ?$|From: |От: )",
    re.IGNORECASE,
)
AUTOMATIC_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}


@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Inbound:
    key: str  # the Message-ID, or the hash of the bytes when there is none
    message_id: str | None
    sender: str  # the From address, lower case ("" when there is none)
    sender_name: str
    subject: str
    case_token: str | None  # from a case+<id>@ address it was sent to
    to: list[str] = field(default_factory=list)  # To, Cc and the envelope's recipients
    answers: list[str] = field(default_factory=list)  # In-Reply-To and References, newest first
    automatic: str | None = None  # why a machine wrote it (never answered)
    bounced: list[str] = field(default_factory=list)  # a bounce: the Message-IDs it returns
    text: str = ""  # the readable text, history and signature trimmed
    full_text: str = ""  # the whole readable text
    attachments: list[Attachment] = field(default_factory=list)
    unreadable: str | None = None


def key_of(raw: bytes, message_id: str | None) -> str:
    return message_id[:255] if message_id else f"sha256:{hashlib.sha256(raw).hexdigest()}"


def read(raw: bytes, recipients: list[str] | None = None) -> Inbound:
    """The message as Caseflow files it; `recipients`: the envelope's (RCPT TO)."""
    try:
        message = message_from_bytes(raw, policy=policy.default)
        return _read(raw, message, recipients or [])
    except Exception as exc:  # bytes from anyone: keep them, say why
        found = MESSAGE_IDS.search(raw[:20000].decode("latin-1"))
        return Inbound(
            key=key_of(raw, None),
            message_id=found.group(0) if found else None,
            sender="",
            sender_name="",
            subject="",
            case_token=None,
            unreadable=f"cannot be parsed: {type(exc).__name__}: {str(exc)[:200]}",
        )


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header the parser cannot decode
        value = message.get_all(name, failobj=[""])[0] if hasattr(message, "get_all") else ""
    return " ".join(str(value or "").split())


def _read(raw: bytes, message: Message, recipients: list[str]) -> Inbound:
    message_id = (MESSAGE_IDS.findall(_header(message, "Message-ID")) or [None])[0]
    name, address = parseaddr(_header(message, "From"))
    to = [a for _, a in getaddresses([_header(message, h) for h in ("To", "Cc", "Delivered-To")])]
    token = next(
        (m.group(1).lower() for a in [*recipients, *to] if (m := CASE_ADDRESS.search(a))), None
    )
    answers = MESSAGE_IDS.findall(_header(message, "In-Reply-To"))
    answers += reversed(MESSAGE_IDS.findall(_header(message, "References")))
    found = Inbound(
        key=key_of(raw, message_id),
        message_id=message_id,
        sender=address.strip().lower(),
        sender_name=name.strip(),
        subject=_header(message, "Subject")[:500],
        case_token=token,
        to=list(dict.fromkeys(a.lower() for a in [*to, *recipients] if a)),
        answers=list(dict.fromkeys(answers)),
        automatic=automatic(message),
    )
    report = str(message.get_param("report-type") or "").lower()
    if message.get_content_type() == "multipart/report" and report == "delivery-status":
        found.bounced = _returned_ids(message)
        found.automatic = found.automatic or "a delivery status notification (bounce)"
    plain, markup = _bodies(message, found)
    full = plain if plain.strip() else as_text(markup)
    found.full_text = full.strip()
    found.text = summary(full)
    return found


def automatic(message: Message) -> str | None:
    """Why a machine wrote the message (RFC 3834 and the headers lists and responders
    use), or None for a person's."""
    submitted = _header(message, "Auto-Submitted").lower()
    if submitted and submitted != "no":
        return f"Auto-Submitted: {submitted}"
    precedence = _header(message, "Precedence").lower()
    if precedence in AUTOMATIC_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "List-Id"):
        if _header(message, name):
            return f"{name} is set"
    if _header(message, "Return-Path") == "<>":
        return "a null sender (Return-Path: <>)"
    return None


def _returned_ids(report: Message) -> list[str]:
    """The Message-IDs of what bounced: from the returned message or its headers."""
    ids: list[str] = []
    for part in report.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            payload: Any = part.get_payload()
            if isinstance(payload, list) and payload:
                ids += MESSAGE_IDS.findall(_header(payload[0], "Message-ID"))
            else:
                text = part.get_payload(decode=True) or b""
                for line in bytes(text).decode("utf-8", "replace").splitlines():
                    if line.lower().startswith("message-id:"):
                        ids += MESSAGE_IDS.findall(line)
    return list(dict.fromkeys(ids))


def _bodies(message: Message, found: Inbound) -> tuple[str, str]:
    """The first plain and HTML text parts, and the files (attachments, inline images, a
    forwarded message as a .eml)."""
    plain, markup = "", ""
    for part in _leaves(message):
        kind = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        filename = _filename(part)
        if kind in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            text = _text_of(part)
            if kind == "text/plain" and not plain:
                plain = text
            elif kind == "text/html" and not markup:
                markup = text
            continue
        if kind.startswith("multipart/") or kind == "message/delivery-status":
            continue
        data = part.get_payload(decode=True)
        if data is None and kind == "message/rfc822":
            inner: Any = part.get_payload()
            data = inner[0].as_bytes() if isinstance(inner, list) and inner else b""
        if tnef.is_tnef(kind, filename):
            inside = tnef.unwrapped(bytes(data or b""))
            if inside is not None:  # Outlook's wrapper: the files it holds are the attachments
                files, text = inside
                found.attachments += [
                    Attachment(f.filename, "application/octet-stream", f.data) for f in files
                ]
                plain = plain or text
                continue
        found.attachments.append(Attachment(filename or _unnamed(kind), kind, bytes(data or b"")))
    return plain, markup


def _leaves(message: Message, depth: int = 0) -> list[Message]:
    """The parts that hold content, in order; a forwarded message is one part (a file), not
    walked into: its text is not this message's text."""
    if depth and message.get_content_type() == "message/rfc822":
        return [message]
    if not message.is_multipart() or depth > 20:
        return [] if message.is_multipart() else [message]
    payload: Any = message.get_payload()
    return [leaf for part in payload or [] for leaf in _leaves(part, depth + 1)]


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    return " ".join(str(name or "").split())[:200]


def _unnamed(kind: str) -> str:
    return {"message/rfc822": "forwarded.eml"}.get(kind, "attachment." + kind.split("/")[-1][:10])


def _text_of(part: Message) -> str:
    data = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return bytes(data).decode(charset, "replace")
    except LookupError:  # a charset Python does not know
        return bytes(data).decode("utf-8", "replace")


def as_text(markup: str) -> str:
    """HTML as the text a person reads (no script, no style, no tags)."""
    if not markup:
        return ""
    markup = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", " ", markup)
    markup = re.sub(r"(?i)<br\s*/?>|</p\s*>|</div\s*>|</li\s*>|</tr\s*>", "\n", markup)
    text = html.unescape(nh3.clean(markup, tags=set()))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def safe_html(markup: str) -> str:
    """HTML fit to show: nh3's defaults (no script, no event handlers, no javascript:)."""
    return nh3.clean(markup)


def summary(text: str, limit: int = 20000) -> str:
    """The new part of a reply: up to where the quoted history or the signature begins."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if HISTORY.match(line.strip()):
            break
        kept.append(line.rstrip())
    trimmed = "\n".join(kept).strip()
    return (trimmed or text.strip())[:limit]
