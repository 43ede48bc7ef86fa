"""Uploads to a case: a program is refused however it is dressed up."""

from __future__ import annotations

import io
import zipfile

import pytest

from caseflow.requests import files
from tests.test_api import assert_problem
from tests.test_bad_input import cancel, first_request

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def archive(*entries: tuple[str, bytes], encrypt: bool = False, method: int = 0) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as made:
        for name, data in entries:
            made.writestr(name, data)
    raw = bytearray(buffer.getvalue())
    if encrypt:  # the flag an encrypting archiver sets, in local and central headers
        for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            start = raw.find(signature)
            while start != -1:
                raw[start + flags_at] |= 0x1
                start = raw.find(signature, start + 4)
    if method:  # a compression method zipfile cannot read (99: WinZip AES), in both headers
        for signature, method_at in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
            start = raw.find(signature)
            while start != -1:
                raw[start + method_at : start + method_at + 2] = method.to_bytes(2, "little")
                start = raw.find(signature, start + 4)
    return bytes(raw)


SETUP = archive(("readme.txt", b"hi"), ("setup.exe", b"MZ\x90"))
LETTER = archive(("word/document.xml", b"<w/>"), ("x/run.bat", b"echo"))
REFUSED = [
    ("run.txt", "text/plain", b" #!/bin/sh\nrm -rf /\n", "program"),
    ("run.txt", "text/plain", b"\xef\xbb\xbf#!/usr/bin/env python\n", "program"),
    ("invoice.pdf.exe", "application/pdf", b"%PDF-1.7 x", "program"),
    ("invoice.exe.pdf", "application/pdf", b"%PDF-1.7 x", "program"),
    ("scan.pdf", "image/png", b"\x89PNG\r\n\x1a\n....", "name says"),
    (
        "docs.zip",
        "application/zip",
        archive(("readme.txt", b"hi"), ("setup.exe", b"MZ\x90")),
        "setup.exe",
    ),
    ("docs.zip", "application/zip", archive(("a/tool", b"\x7fELF\x02\x01")), "a/tool"),
    (
        "letter.docx",
        DOCX,
        archive(("word/document.xml", b"<w/>"), ("x/run.bat", b"echo")),
        "run.bat",
    ),
    ("docs.zip", "application/zip", archive(("a.txt", b"secret"), encrypt=True), "encrypted"),
    ("docs.zip", "application/zip", b"PK\x03\x04 broken", "not an archive"),
    ("docs.zip", "application/zip", archive(("a.txt", b"x"), method=99), "packed in a way"),
]


@pytest.mark.parametrize(("name", "kind", "data", "reason"), REFUSED)
def test_programs_in_disguise_are_refused(name: str, kind: str, data: bytes, reason: str) -> None:
    with pytest.raises(files.FileRefused, match=reason):
        files.check(name, kind, data)


def test_ordinary_documents_are_kept() -> None:
    zipped = archive(("act.pdf", b"%PDF-1.7"), ("photos/p.png", b"\x89PNG\r\n\x1a\n"))
    assert files.check("docs.zip", "application/zip", zipped).size == len(zipped)
    assert files.check("notes", "text/plain", b"  just text #! not a script").size
    assert files.check("v1.2.report.pdf", "application/pdf", b"%PDF-1.7").filename


async def test_the_api_refuses_them_and_keeps_nothing(http, tokens) -> None:
    request_id = await first_request(http, tokens)
    url = f"/api/v1/requests/{request_id}/files"
    headers = tokens["operator"]
    for name, kind, data, reason in REFUSED:
        answer = await http.post(url, files={"file": (name, data, kind)}, headers=headers)
        problem = assert_problem(answer, 422)
        assert reason in problem["detail"] and problem["errors"][0]["field"] == "file"
    kept = await http.get(url, headers=headers)
    assert kept.json()["items"] == []
    await cancel(http, tokens, request_id)
