"""The OpenAPI document is a contract: it changes only on purpose. The committed copy
(`tests/openapi.json`) is compared byte for byte; refresh it after a deliberate change with
`python -m tests.test_openapi_snapshot` and review the diff."""

from __future__ import annotations

import json
from pathlib import Path

from api.app import create_app
from api.openapi import document

SNAPSHOT = Path(__file__).with_name("openapi.json")


def rendered() -> str:
    return json.dumps(document(create_app()), ensure_ascii=False, indent=1) + "\n"


def test_the_openapi_document_is_the_committed_one() -> None:
    assert rendered() == SNAPSHOT.read_text(encoding="utf-8"), (
        "the OpenAPI document changed; if on purpose: python -m tests.test_openapi_snapshot"
    )


if __name__ == "__main__":
    SNAPSHOT.write_text(rendered(), encoding="utf-8")
