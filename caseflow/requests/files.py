"""Which files a case may keep: size limit, allowed types, and the bytes agreeing with the type.

A declared content type is not trusted: the first bytes must look like it (a PDF starts
with `%PDF-`, text decodes as UTF-8, …), and the name's extension must agree. Programs are
refused whatever they claim to be: by their bytes (also after leading blanks), by any
extension of their name (`x.pdf.exe`, `x.exe.pdf`), and inside an archive, one level deep.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
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
EXECUTABLE = (
    b"MZ",  # Windows
    b"\x7fELF",  # Linux
    b"#!",  # scripts
    b"\xfe\xed\xfa\xce",  # Mach-O
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O universal, Java classes
)
PROGRAM_EXTENSIONS = frozenset(
    "exe com bat cmd scr pif msi msp dll cpl jar js jse vbs vbe wsf wsh hta ps1 psm1 "
    "sh bash zsh csh ksh run bin app apk elf deb rpm reg lnk gadget".split()
)
# What a name's last extension says its content is (names without one are left alone).
EXTENSIONS = {
    "pdf": {"application/pdf"},
    "png": {"image/png"},
    "jpg": {"image/jpeg"},
    "jpeg": {"image/jpeg"},
    "gif": {"image/gif"},
    "zip": {"application/zip"},
    "docx": {"application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    "xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    "doc": {"application/msword"},
    "xls": {"application/vnd.ms-excel"},
    "txt": {"text/plain"},
    "csv": {"text/csv", "text/plain"},
    "eml": {"message/rfc822"},
    "json": {"application/json"},
}
# Leading bytes that hide a script's `#!`: blanks and a UTF-8 byte order mark.
BLANKS = b" \t\r\n\x0b\x0c\xef\xbb\xbf"


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
    if is_program(name, data):
        raise FileRefused(f"{name} is a program; programs are not kept")
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else None
    if extension in EXTENSIONS and kind not in EXTENSIONS[extension]:
        raise FileRefused(f"{name} is declared {kind}, which its name says it is not")
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
        if data.startswith(ZIP):
            inspect_archive(name, data)
    else:
        allowed = ", ".join(sorted(TEXT_TYPES | set(SIGNATURES)))
        raise FileRefused(f"{name}: type {kind} is not accepted (accepted: {allowed})")
    return CheckedFile(hashlib.sha256(data).hexdigest(), name, kind, len(data))


def is_program(name: str, head: bytes) -> bool:
    """A program by any extension of its name, or by its first bytes."""
    parts = name.lower().split(".")[1:]
    return any(p.strip() in PROGRAM_EXTENSIONS for p in parts) or head.lstrip(BLANKS).startswith(
        EXECUTABLE
    )


# The compression methods Python's zipfile reads; an entry packed otherwise cannot be checked.
READABLE = frozenset(
    {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
)


def inspect_archive(name: str, data: bytes) -> None:
    """Refuse an archive (ZIP, and so DOCX/XLSX) holding a program or an entry that cannot
    be checked; only each entry's name and first bytes are read."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for entry in archive.infolist():
                if entry.is_dir():
                    continue
                if entry.flag_bits & 0x1:
                    raise FileRefused(f"{name} holds an encrypted entry that cannot be checked")
                if entry.compress_type not in READABLE:
                    raise FileRefused(
                        f"{name} holds an entry packed in a way that cannot be checked "
                        f"({entry.filename})"
                    )
                with archive.open(entry) as member:
                    head = member.read(64)
                if is_program(entry.filename.rsplit("/", 1)[-1], head):
                    raise FileRefused(f"{name} holds a program ({entry.filename})")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise FileRefused(f"{name} is not an archive that can be read") from exc
