"""What a mailbox's poller workflow carries: the mailbox as configured (its secrets still
`${ENV}` names — the worker reading the mailbox resolves them, history never holds them)
and what one round found. Plain data, no I/O."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field


class MailboxTerms(BaseModel):
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


class MailboxRound(BaseModel):
    """One round of a poller: how many messages it kept (and moved out of the folder), and
    whether the server was asked to say when mail arrives (IDLE) — else the workflow waits
    `every` itself."""

    kept: int = 0
    waited: bool = False


ROUNDS_PER_RUN = 500  # then the poller continues as new


class MailboxStart(BaseModel):
    box: MailboxTerms
    rounds: int = ROUNDS_PER_RUN
