"""The mailboxes Caseflow fetches customers' e-mail from (`routing_rules/mail/mailboxes.yaml`):
an IMAP server, the account (secrets as `${ENV}`), the folder to read, where processed mail
goes, and where a new case from it goes. Checked at start like the other rules (file, line,
reason)."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from caseflow.platform.yamlsource import SourceError, SourceErrors, read

SECRET = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


class Mailbox(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,40}$")
    host: str = Field(min_length=1)
    port: int = Field(default=993, ge=1, le=65535)
    tls: bool = True
    username: str = Field(min_length=1)
    password: str = Field(min_length=1, description="${ENV} to take it from the environment")
    folder: str = "INBOX"
    processed_folder: str = "Caseflow/Processed"
    serves: str | None = Field(default=None, description="the address it receives for")
    topic: str = "consultation"
    region: str = "RU-MOW"
    segment: str = "b2c"
    every: timedelta = Field(default=timedelta(seconds=30), description="without IDLE")

    @field_validator("username", "password")
    @classmethod
    def _known(cls, value: str) -> str:
        for name in SECRET.findall(value):
            if name not in os.environ:
                raise ValueError(f"${{{name}}} is not set in the environment")
        return value

    def secret(self, value: str) -> str:
        return SECRET.sub(lambda m: os.environ[m.group(1)], value)


class Mailboxes(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mailboxes: list[Mailbox] = Field(default_factory=list)


def load(path: Path) -> list[Mailbox]:
    """The configured mailboxes (none when the file is absent); names are unique."""
    if not path.exists():
        return []
    found = read(Mailboxes, path).mailboxes
    names = [m.name for m in found]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SourceErrors([SourceError(path.name, 1, f"mailbox named twice: {', '.join(twice)}")])
    return found
