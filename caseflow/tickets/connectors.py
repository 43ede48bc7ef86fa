"""External ticket systems: connectors as data, what a ticket's change means for a case.

Pure and deterministic: the workflow imports the models and `verdict`; connectors (I/O)
live in activities/connectors. Connectors are configured in
`routing_rules/ticketing/connectors.yaml`; secrets are written `${ENV_VAR}` and read from
the environment when the file is loaded, never stored in the file.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    computed_field,
    field_validator,
    model_validator,
)

from caseflow.platform.yamlsource import SourceError, SourceErrors, parse, validate_data
from caseflow.sla.calendar import IanaZone

Meaning = Literal["open", "pending", "resolved", "rejected"]
Closure = Literal["return_to_line", "close_case"]
ChangeKind = Literal["status", "reply", "note", "article"]
FINISHED: frozenset[str] = frozenset({"resolved", "rejected"})
ENV_REF = re.compile(r"\$\{([A-Z0-9_]+)\}")


def expand(text: str) -> str:
    """`${NAME}` → the environment's NAME; a missing variable is a configuration error."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ValueError(f"environment variable {name} is not set")
        return os.environ[name]

    return ENV_REF.sub(one, text)


class ConnectorConfig(BaseModel):
    """One installation of an external ticket system, as Caseflow talks to it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")
    kind: Literal["request_tracker", "otrs"]
    base_url: str = Field(min_length=1, description="REST2 base, or the web service's base")
    # Request Tracker: an auth token; OTRS: UserLogin + Password.
    token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    # The integration account's own changes are never synced back (echo-loop guard).
    integration_user: str
    # Inbound: Standard Webhooks secret (`whsec_…`) for senders that sign, else a bearer token.
    webhook_secret: SecretStr | None = None
    webhook_token: SecretStr | None = None
    queues: list[str] = Field(min_length=1, description="queues a hand-off may name")
    topic_queues: dict[str, str] = Field(default_factory=dict)
    statuses: dict[str, Meaning] = Field(min_length=1, description="external status → meaning")
    closure: dict[str, Closure] = Field(default_factory=dict, description="per topic")
    default_closure: Closure = "return_to_line"
    # Set on the ticket when the case is closed or cancelled in Caseflow while the
    # department still has it (none: the ticket only gets the note).
    close_status: str | None = None
    poll_every: timedelta | None = Field(default=None, description="Request Tracker polling")
    # RT reads the dates in TicketSQL in its own $Timezone: the poller writes them in it.
    timezone: IanaZone = "UTC"
    timeout: float = 15.0

    @model_validator(mode="after")
    def _consistent(self) -> ConnectorConfig:
        unknown = sorted(set(self.topic_queues.values()) - set(self.queues))
        if unknown:
            raise ValueError(f"topic_queues name queues not in queues: {', '.join(unknown)}")
        if self.kind == "request_tracker" and self.token is None:
            raise ValueError("a Request Tracker connector needs a token")
        if self.kind == "otrs" and (self.username is None or self.password is None):
            raise ValueError("an OTRS connector needs username and password")
        if self.webhook_secret is None and self.webhook_token is None and self.kind == "otrs":
            raise ValueError("an OTRS connector needs webhook_token (it cannot sign)")
        return self

    def queue_for(self, topic: str) -> str:
        return self.topic_queues.get(topic, self.queues[0])

    def closure_for(self, topic: str) -> Closure:
        return self.closure.get(topic, self.default_closure)

    def meaning(self, status: str | None, status_type: str | None = None) -> Meaning | None:
        """What a status means; OTRS state names are configurable, so its type is a fallback."""
        found = self.statuses.get(status or "")
        return found or self.statuses.get(status_type or "")


class TicketingFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    connectors: list[ConnectorConfig] = Field(default_factory=list)

    @field_validator("connectors")
    @classmethod
    def _unique(cls, value: list[ConnectorConfig]) -> list[ConnectorConfig]:
        names = [c.name for c in value]
        if len(names) != len(set(names)):
            raise ValueError("connector names repeat")
        return value


class Ticketing:
    """The configured connectors by name."""

    def __init__(self, connectors: list[ConnectorConfig]) -> None:
        self.connectors = {c.name: c for c in connectors}

    def get(self, name: str) -> ConnectorConfig | None:
        return self.connectors.get(name)


def _expand_secrets(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: _expand_secrets(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_expand_secrets(value) for value in data]
    return expand(data) if isinstance(data, str) else data


def load(path: Path) -> Ticketing:
    """Read the connectors file; no file means no connectors (hand-off is then refused)."""
    if not path.is_file():
        return Ticketing([])
    text = path.read_text(encoding="utf-8")
    data, lines = parse(text, path.name)
    try:
        data = _expand_secrets(data or {})
    except ValueError as exc:
        raise SourceErrors([SourceError(path.name, 1, str(exc))]) from exc
    source = validate_data(TicketingFile, data, lines, path.name)
    return Ticketing(source.connectors)


# --- what crosses into the workflow -------------------------------------------------------


class StoredFile(BaseModel):
    """A file kept content-addressed in Caseflow's store."""

    sha256: str
    filename: str
    content_type: str
    size: int


class TicketChange(BaseModel):
    """One change of an external ticket, as the sender or the poller saw it.

    `order` is the external system's own order (RT transaction id, OTRS history id or the
    `Changed` time as a number): a status with a lower order than one applied is stale.
    """

    connector: str
    ticket_id: str
    event_id: str
    order: float
    kind: ChangeKind
    at: datetime
    status: str | None = None
    status_type: str | None = Field(default=None, description="OTRS: the state's type")
    author: str | None = None
    text: str | None = None
    files: list[StoredFile] = Field(default_factory=list)
    refused_files: list[str] = Field(default_factory=list, description="file: why not kept")
    external_id: str | None = Field(default=None, description="article or transaction id")
    meaning: Meaning | None = Field(default=None, description="the status's meaning, mapped")


class ExternalTicket(BaseModel):
    """The case's ticket in an adjacent department's system, as the workflow knows it."""

    connector: str
    queue: str
    note: str
    closure: Closure
    ticket_id: str | None = None
    number: str | None = None
    url: str | None = None
    status: str | None = None
    meaning: Meaning | None = None
    last_order: float = -1.0
    pushed_status: str | None = None
    # The workflow's own bookkeeping: kept in its memory, left out of views.
    seen: list[str] = Field(default_factory=list, exclude=True, description="latest events")
    articles: list[str] = Field(default_factory=list, exclude=True, description="synced")
    active: bool = True
    failed: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def pending(self) -> bool:
        return self.active and self.ticket_id is None and self.failed is None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def state(self) -> str:
        if self.failed:
            return "hand-off failed"
        return "hand-off pending" if self.pending else (self.status or "open")


SEEN_KEPT = 500

Verdict = Literal["duplicate", "other_ticket", "stale", "echo", "apply"]


def verdict(ticket: ExternalTicket | None, change: TicketChange) -> Verdict:
    """What a change does to the case: nothing (duplicate, other ticket), a record only
    (stale: older than a status already applied; echo: the state Caseflow itself pushed),
    or apply it."""
    if ticket is None or ticket.ticket_id != change.ticket_id:
        return "other_ticket"
    if change.event_id in ticket.seen:
        return "duplicate"
    if change.kind == "status":
        if change.order <= ticket.last_order:
            return "stale"
        if change.status is not None and change.status == ticket.pushed_status:
            return "echo"
    return "apply"


def remember(ticket: ExternalTicket, event_id: str) -> None:
    ticket.seen.append(event_id)
    del ticket.seen[:-SEEN_KEPT]


class TicketOrder(BaseModel):
    """Open a ticket for a case (idempotent: looked up by `ref` before creating).

    `ref` is the request's id, unique across installations and databases; `number` is the
    request number people read (`REQ-000123`), which a second installation may repeat.
    """

    connector: str
    ref: str
    number: str
    queue: str
    subject: str
    body: str
    requestor: str | None = None
    priority: str = "normal"
    request_id: str
    workflow_id: str
    topic: str


class TicketRef(BaseModel):
    ticket_id: str
    number: str
    url: str | None = None
    found: bool = Field(default=False, description="an earlier attempt had created it")
    closure: Closure = "return_to_line"


class TicketPost(BaseModel):
    """Send a Caseflow comment (with files) to the ticket; `key` makes it happen once."""

    connector: str
    ticket_id: str
    key: str
    text: str
    public: bool = True
    files: list[StoredFile] = Field(default_factory=list)
    close: bool = Field(default=False, description="then set the connector's close_status")


class ArticleFetch(BaseModel):
    connector: str
    ticket_id: str
    request_id: str
    known: list[str] = Field(default_factory=list)


class TicketLink(BaseModel):
    """Write which request a ticket belongs to, so events coming back find their case."""

    connector: str
    ticket_id: str
    number: str
    request_id: str
    workflow_id: str
    ref: str


class Delivery(BaseModel):
    workflow_id: str
    change: TicketChange


class PollInput(BaseModel):
    """Where a Request Tracker poller stands: tickets updated since, transactions after."""

    connector: str
    since: str | None = None
    txn: int = 0


class Polled(BaseModel):
    deliveries: list[Delivery] = Field(default_factory=list)
    since: str | None = None
    txn: int = 0


class Signalled(BaseModel):
    connector: str
    event_ids: list[str]
