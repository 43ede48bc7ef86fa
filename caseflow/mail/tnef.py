"""Outlook's winmail.dat (TNEF, application/ms-tnef): the files it wraps, read with tnefparse,
so the customer's attachments reach the case instead of one opaque file the upload checks
must refuse. Pure: no I/O."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from tnefparse import TNEF

log = logging.getLogger(__name__)
TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})


@dataclass(frozen=True)
class Wrapped:
    filename: str
    data: bytes


def is_tnef(content_type: str, filename: str) -> bool:
    return content_type.lower() in TYPES or filename.lower() == "winmail.dat"


def unwrapped(data: bytes) -> tuple[list[Wrapped], str] | None:
    """The files inside and the message text it carries, or None when the bytes are not a
    TNEF stream with files that can be read (the file then stays as it came)."""
    try:
        stream = TNEF(data, do_checksum=True)
    except Exception as exc:  # a damaged stream is any error of the parser: keep the file
        log.info("winmail.dat not readable: %s", exc)
        return None
    files = []
    for attachment in stream.attachments:
        if not attachment.data:
            continue
        name = " ".join(_name(attachment, stream.codepage).replace("\x00", " ").split())
        files.append(Wrapped(name[:200] or "attachment.bin", bytes(attachment.data)))
    if not files:  # nothing readable inside: the file stays as it came, and is said so
        return None
    body = stream.body
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    return files, text.replace("\x00", "").strip()


def _name(attachment: Any, codepage: str | None) -> str:
    """The file's long name, else its title — in the sender's code page when it is not UTF-8
    (Outlook writes titles in the OEM code page: cp1251 for Russian)."""
    try:
        return str(attachment.long_filename() or "")
    except UnicodeDecodeError:
        raw = getattr(attachment, "_name", b"")
        if not isinstance(raw, bytes):
            return str(raw)
        try:
            return raw.decode(codepage or "cp1252")
        except (LookupError, UnicodeDecodeError):
            return raw.decode("cp1252", "replace")
