"""The read model and reference data: SQLAlchemy 2 tables, written by activities and the API,
one module per business concept; every table is importable from here."""

from caseflow.models.audit import AuditDay, AuditEntry
from caseflow.models.base import NAMING, Base, UtcDateTime, utcnow
from caseflow.models.customers import (
    Customer,
    CustomerChange,
    CustomerContact,
    CustomerFact,
    CustomerMatchKey,
    CustomerMerge,
    Interaction,
    Representative,
)
from caseflow.models.deals import Deal, DealEventRow, DealTask
from caseflow.models.people import Absence, ApiToken, Team, User, WorkerBeat
from caseflow.models.requests import (
    OPEN_BREACH,
    RESOLVED_CLOCK,
    RUNNING_CLOCK,
    CaseViewer,
    Notification,
    Request,
    RequestEvent,
    SlaClock,
    SlaSegment,
)
from caseflow.models.system import Counter, IdempotencyKey, JobCheckpoint, RoutingState
from caseflow.models.tickets import (
    RequestFile,
    StoredFileRow,
    TicketEventRow,
    TicketLinkRow,
    TicketPostRow,
)

__all__ = [
    "NAMING",
    "OPEN_BREACH",
    "RESOLVED_CLOCK",
    "RUNNING_CLOCK",
    "Absence",
    "ApiToken",
    "AuditDay",
    "AuditEntry",
    "Base",
    "CaseViewer",
    "Counter",
    "Customer",
    "CustomerChange",
    "CustomerContact",
    "CustomerFact",
    "CustomerMatchKey",
    "CustomerMerge",
    "Deal",
    "DealEventRow",
    "DealTask",
    "IdempotencyKey",
    "Interaction",
    "JobCheckpoint",
    "Notification",
    "Representative",
    "Request",
    "RequestEvent",
    "RequestFile",
    "RoutingState",
    "SlaClock",
    "SlaSegment",
    "StoredFileRow",
    "Team",
    "TicketEventRow",
    "TicketLinkRow",
    "TicketPostRow",
    "User",
    "UtcDateTime",
    "WorkerBeat",
    "utcnow",
]
