"""Who may give a customer an owner, and who may be one (mass assignment, OWASP API3).

A customer's personal manager, account manager and contract unit decide who sees the
customer and where their requests go, so they are set only by those who hand out
customers, and only to people (or a unit) that exist and can hold them.
"""

from __future__ import annotations

from caseflow.access.rules import Viewer
from caseflow.requests.lifecycle import Role

OWNERSHIP_FIELDS = ("personal_manager", "account_manager", "contract_unit")
# Who may hold each ownership field (contract_unit names a team, not a person).
HOLDERS: dict[str, frozenset[Role]] = {
    "personal_manager": frozenset({Role.AGENT, Role.MANAGER}),
    "account_manager": frozenset({Role.MANAGER}),
}
# Who hands out customers; a sales manager may only name themselves account manager.
ASSIGNERS = frozenset({Role.ADMIN, Role.SUPERVISOR})


def may_set(viewer: Viewer, field: str, value: str) -> bool:
    """Whether the viewer may set `field` of a customer to `value`."""
    try:
        role = Role(viewer.role)
    except ValueError:
        return False
    if role in ASSIGNERS:
        return True
    return field == "account_manager" and role == Role.MANAGER and value == viewer.username
