"""The request lifecycle as data: states, lines, who may do what from where.

Pure and deterministic: the workflow validates updates with it, the API uses it to
list allowed actions, and tests exercise it alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    REGISTERED = "registered"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_CUSTOMER = "waiting_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Line(StrEnum):
    L1 = "L1"
    L2 = "L2"
    L3 = "L3"
    EXTERNAL = "external"


class Role(StrEnum):
    OPERATOR = "operator"
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    MANAGER = "manager"
    ADMIN = "admin"
    INTEGRATION = "integration"
    SECURITY = "security"  # reads the audit log; sees no customer's records
    SYSTEM = "system"


FINAL_STATES = frozenset({State.CLOSED, State.CANCELLED})
OPEN_STATES = frozenset(
    {State.REGISTERED, State.ASSIGNED, State.IN_PROGRESS, State.WAITING_CUSTOMER}
)
WORKING = frozenset({State.ASSIGNED, State.IN_PROGRESS, State.WAITING_CUSTOMER})

STAFF = frozenset({Role.OPERATOR, Role.AGENT, Role.SUPERVISOR, Role.ADMIN})
OVERSEERS = frozenset({Role.SUPERVISOR, Role.ADMIN})


@dataclass(frozen=True)
class Rule:
    """One action: the states it may start from, where it leads (None: stays), who may do it."""

    sources: frozenset[State]
    target: State | None
    roles: frozenset[Role]


ACTIONS: dict[str, Rule] = {
    "take": Rule(frozenset({State.REGISTERED, State.ASSIGNED}), State.ASSIGNED, STAFF),
    "start": Rule(frozenset({State.ASSIGNED}), State.IN_PROGRESS, STAFF),
    "comment": Rule(OPEN_STATES | {State.RESOLVED}, None, STAFF | {Role.INTEGRATION}),
    "request-info": Rule(frozenset({State.IN_PROGRESS}), State.WAITING_CUSTOMER, STAFF),
    "customer-reply": Rule(
        frozenset({State.WAITING_CUSTOMER, State.IN_PROGRESS, State.ASSIGNED}),
        None,  # waiting_customer → in_progress, otherwise the state stays
        STAFF | {Role.INTEGRATION},
    ),
    "resolve": Rule(frozenset({State.IN_PROGRESS, State.WAITING_CUSTOMER}), State.RESOLVED, STAFF),
    "close": Rule(frozenset({State.RESOLVED}), State.CLOSED, STAFF | {Role.SYSTEM}),
    "reopen": Rule(frozenset({State.RESOLVED}), State.IN_PROGRESS, STAFF | {Role.INTEGRATION}),
    "cancel": Rule(OPEN_STATES, State.CANCELLED, STAFF),
    "escalate": Rule(WORKING, State.ASSIGNED, STAFF),
    "return": Rule(WORKING, State.ASSIGNED, STAFF),
    "handoff": Rule(WORKING, State.ASSIGNED, STAFF),
    "reassign": Rule(OPEN_STATES, State.ASSIGNED, OVERSEERS),
    "set-priority": Rule(OPEN_STATES, None, frozenset({Role.AGENT}) | OVERSEERS),
}

LINE_ORDER = {Line.L1: 1, Line.L2: 2, Line.L3: 3}
# L3 experts are engaged by L2, never straight from the hotline.
ESCALATIONS = {Line.L1: frozenset({Line.L2}), Line.L2: frozenset({Line.L3})}


def next_state(action: str, current: State) -> State:
    rule = ACTIONS[action]
    if action == "customer-reply":
        return State.IN_PROGRESS if current == State.WAITING_CUSTOMER else current
    return rule.target or current


def has_line_access(
    *,
    role: Role,
    lines: list[Line],
    line: Line,
    username: str,
    assignee: str | None,
    handed_by: Line | None,
) -> bool:
    """Overseers, integrations and the system act on any line, staff on their own; a case
    with an external department stays with its owner and the line that handed it off."""
    if role in OVERSEERS | {Role.INTEGRATION, Role.SYSTEM} or line in lines:
        return True
    return line == Line.EXTERNAL and (username == assignee or handed_by in lines)


def may_resolve_on(line: Line, resolving_line: Line | None) -> bool:
    """A topic is resolved on its resolving line or above; lines below escalate it."""
    if resolving_line is None or line not in LINE_ORDER or resolving_line not in LINE_ORDER:
        return True
    return LINE_ORDER[line] >= LINE_ORDER[resolving_line]


def takes_from(role: Role, team: str | None, queue: str | None) -> bool:
    """Staff take from their own queue; overseers reassign from any."""
    return role in OVERSEERS or queue is None or team == queue


def allowed_actions(
    *,
    state: State,
    role: Role,
    line_access: bool,
    can_return: bool,
    line: Line,
    mine: bool = False,
    own_queue: bool = True,
    may_resolve: bool = True,
) -> list[str]:
    """Actions this caller could make now, in the order of ACTIONS."""
    result = []
    for name, rule in ACTIONS.items():
        if state not in rule.sources or role not in rule.roles:
            continue
        if not line_access and role not in OVERSEERS and role != Role.INTEGRATION:
            continue
        if name == "return" and not can_return:
            continue
        if name == "escalate" and not ESCALATIONS.get(line):
            continue
        if name == "handoff" and line == Line.EXTERNAL:
            continue
        if name == "take" and (mine or not own_queue):
            continue
        if name == "resolve" and not may_resolve:
            continue
        result.append(name)
    return result
