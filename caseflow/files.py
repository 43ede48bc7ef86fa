"""Which files a case may keep: size limit, allowed types, and the bytes agreeing with the type.

A declared content type is not trusted: the first bytes must look like it (a PDF starts
with `%PDF-`, text decodes as UTF-8, …). Executables are refused whatever they claim to be.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

MAX_BYTES = 10 * 1024 * 1024
ZIP = b"PK\x03\x04"
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/zip": (ZIP,),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (ZIP,),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (ZIP,),
    "application/msword": (b"\xd0\xcf\x11\xe0",),
    "application/vnd.ms-excel": (b"\xd0\xcf\x11\xe0",),
}
TEXT_TYPES = frozenset({"text/plain", "text/csv", "message/rfc822", "application/json"})
EXECUTABLE = (b"MZ", b"\x7fELF", b"#!")


class FileRefused(ValueError):
    """The file may not be kept; the message says why."""


@dataclass(frozen=True)
class CheckedFile:
    sha256: str
    filename: str
    content_type: str
    size: int


def base_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def check(filename: str, content_type: str, data: bytes, max_bytes: int = MAX_BYTES) -> CheckedFile:
    """The file as it will be kept, or FileRefused naming the reason."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or len(name) > 255:
        raise FileRefused("a file needs a name of 1 to 255 characters")
    if len(data) > max_bytes:
        raise FileRefused(f"{name} is {len(data)} bytes; at most {max_bytes} are kept")
    if not data:
        raise FileRefused(f"{name} is empty")
    kind = base_type(content_type) or "application/octet-stream"
    if data.startswith(EXECUTABLE):
        raise FileRefused(f"{name} is a program; programs are not kept")
    if kind in TEXT_TYPES:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FileRefused(f"{name} is declared {kind} but is not UTF-8 text") from exc
        if "\x00" in text:
            raise FileRefused(f"{name} is declared {kind} but holds binary data")
    elif kind in SIGNATURES:
        if not data.startswith(SIGNATURES[kind]):
            raise FileRefused(f"{name} is declared {kind} but its content is not")
    else:
        allowed = ", ".join(sorted(TEXT_TYPES | set(SIGNATURES)))
        raise FileRefused(f"{name}: type {kind} is not accepted (accepted: {allowed})")
    return CheckedFile(hashlib.sha256(data).hexdigest(), name, kind, len(data))
