"""The mailboxes Caseflow fetches customers' e-mail from (`routing_rules/mail/mailboxes.yaml`):
an IMAP server, the account (secrets as `${ENV}`), the folder to read, where processed mail
goes, and where a new case from it goes. Checked at start like the other rules (file, line,
reason)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from caseflow.mail.mailbox_terms import MailboxTerms
from caseflow.platform.yamlsource import SourceError, SourceErrors, read

SECRET = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


class Mailbox(MailboxTerms):
    """A mailbox as `mailboxes.yaml` gives it: its secrets must be set where it is read."""

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
