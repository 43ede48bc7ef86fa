"""The hash chain of the audit log, as plain functions.

Each day is one chain: its first entry links to the root of the day before (or GENESIS),
every entry's hash covers its content and the hash before it, and the day's root is its
last hash. Changing, adding or removing an entry breaks the chain at that place.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS = "0" * 64
FIELDS = (
    "day",
    "seq",
    "at",
    "actor",
    "role",
    "method",
    "route",
    "record_kind",
    "record_id",
    "detail",
    "address",
    "status",
)


@dataclass(frozen=True)
class Call:
    """What the edge saw of one call (before it has a place in the chain)."""

    at: datetime
    actor: str | None
    role: str | None
    method: str
    route: str
    record_kind: str | None
    record_id: str | None
    detail: str | None
    address: str | None
    status: int

    @property
    def day(self) -> str:
        return self.at.astimezone(UTC).date().isoformat()


def canonical(content: dict[str, object]) -> bytes:
    """The entry's content as the bytes its hash covers (times in UTC, microseconds)."""
    values = {}
    for name in FIELDS:
        value = content[name]
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat(timespec="microseconds")
        values[name] = value
    return json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def link(prev_hash: str, content: dict[str, object]) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(content)).hexdigest()
