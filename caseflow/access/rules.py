"""Who may see what, declared as data: for each kind of record and each role, the grants
that make a record visible. A role a table does not name sees none of that kind.

The SQL predicates in `caseflow.access.where` are built from these tables and nothing
else; the access test matrix reads them too, so the policy is written down once.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol

from caseflow.requests.lifecycle import Role


class Kind(StrEnum):
    CUSTOMER = "customer"
    REQUEST = "request"
    DEAL = "deal"
    TASK = "task"
    NOTE = "note"
    FILE = "file"
    NOTIFICATION = "notification"
    REPRESENTATIVE = "representative"
    PERSON = "person"
    ABSENCE = "absence"


class Grant(StrEnum):
    ALL = "all"
    # Requests
    MINE = "mine"  # registered by the viewer or assigned to them
    HOTLINE = "hotline"  # on the first line (L1)
    TEAM_QUEUE = "team_queue"  # in the queue of the viewer's team; nothing without a team
    ZONE_QUEUES = "zone_queues"  # in a queue of the viewer's zone
    ZONE_REGIONS = "zone_regions"  # of a customer in one of the zone's regions (deals too)
    OWN_CUSTOMERS = "own_customers"  # of a customer the viewer is personal/account manager of
    # Customers
    OWNED = "owned"  # customers: the viewer is their personal/account manager; deals: owner
    CREATED = "created"  # customers the viewer registered
    # Deals
    ZONE_OWNERS = "zone_owners"  # owned by someone of the zone's teams
    TASK_ASSIGNEE = "task_assignee"  # with a task assigned to the viewer
    # People
    ZONE_TEAMS = "zone_teams"  # people of the zone's teams


STAFF_WIDE = frozenset({Grant.ALL})

GRANTS: dict[Kind, dict[Role, frozenset[Grant]]] = {
    Kind.REQUEST: {
        Role.ADMIN: STAFF_WIDE,
        Role.SUPERVISOR: frozenset({Grant.ZONE_QUEUES, Grant.ZONE_REGIONS, Grant.MINE}),
        Role.OPERATOR: frozenset({Grant.HOTLINE, Grant.MINE}),
        Role.AGENT: frozenset({Grant.TEAM_QUEUE, Grant.MINE}),
        Role.MANAGER: frozenset({Grant.MINE, Grant.OWN_CUSTOMERS}),
        Role.INTEGRATION: frozenset({Grant.MINE}),
    },
    # A sales manager sees only the customers that are theirs (one client, one manager);
    # the service side finds any customer on the phone.
    Kind.CUSTOMER: {
        Role.ADMIN: STAFF_WIDE,
        Role.SUPERVISOR: STAFF_WIDE,
        Role.OPERATOR: STAFF_WIDE,
        Role.AGENT: STAFF_WIDE,
        Role.INTEGRATION: STAFF_WIDE,
        Role.MANAGER: frozenset({Grant.OWNED, Grant.CREATED}),
    },
    Kind.DEAL: {
        Role.ADMIN: STAFF_WIDE,
        Role.SUPERVISOR: frozenset({Grant.ZONE_OWNERS, Grant.ZONE_REGIONS, Grant.TASK_ASSIGNEE}),
        Role.MANAGER: frozenset({Grant.OWNED, Grant.TASK_ASSIGNEE}),
        Role.AGENT: frozenset({Grant.TASK_ASSIGNEE}),
        Role.OPERATOR: frozenset({Grant.TASK_ASSIGNEE}),
    },
    Kind.PERSON: {
        Role.ADMIN: STAFF_WIDE,
        Role.SUPERVISOR: frozenset({Grant.ZONE_TEAMS}),
    },
}

# Kinds that are seen through another record (and what else they need).
DERIVED: dict[Kind, str] = {
    Kind.TASK: "its deal is visible, or the task is assigned to the viewer",
    Kind.NOTE: "its customer is visible, and its request too when it names one",
    Kind.FILE: "its request is visible",
    Kind.NOTIFICATION: "its request is visible; without one, its customer; without either, "
    "it was sent to the viewer (admins see all)",
    Kind.REPRESENTATIVE: "their customer is visible",
    Kind.ABSENCE: "the absent person is visible",
}


class Viewer(Protocol):
    """The caller as the policy needs them (a `caseflow.models.User` is one)."""

    @property
    def username(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def team_code(self) -> str | None: ...
    @property
    def zone_teams(self) -> Sequence[str]: ...
    @property
    def zone_regions(self) -> Sequence[str]: ...


def grants(kind: Kind, viewer: Viewer) -> frozenset[Grant]:
    """What makes a record of `kind` visible to `viewer` (empty: nothing is)."""
    try:
        role = Role(viewer.role)
    except ValueError:
        return frozenset()
    return GRANTS[kind].get(role, frozenset())


class NotVisible(LookupError):
    """The record does not exist or the caller may not see it: the edges say "not found"."""

    def __init__(self, kind: Kind) -> None:
        super().__init__(f"{kind} not found")
        self.kind = kind
