"""SQL predicates for the access policy: `where(kind, viewer)` filters any query over that
kind's table to what the viewer may see. Built from `rules.GRANTS` alone."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, false, or_, select, true

from caseflow.access.rules import Grant, Kind, Viewer, grants
from caseflow.models import (
    Absence,
    Customer,
    Deal,
    DealTask,
    Interaction,
    Notification,
    Representative,
    Request,
    RequestFile,
    User,
)
from caseflow.requests.lifecycle import Line, Role

Clause = ColumnElement[bool]


def _any(clauses: list[Clause]) -> Clause:
    if not clauses:
        return false()
    return clauses[0] if len(clauses) == 1 else or_(*clauses)


def _among(column: Any, codes: Sequence[str] | None) -> Clause:
    """`column IN (codes)` with the codes (teams, regions: a viewer's zone, from the
    directory) written into the statement: a page that counts several views of a zone would
    otherwise pass dozens of parameters per statement, past what the driver caches."""
    return column.in_(bindparam(None, list(codes or []), expanding=True, literal_execute=True))


def _customers_in_regions(viewer: Viewer) -> Any:
    return select(Customer.id).where(_among(Customer.region, viewer.zone_regions))


def _customers_managed_by(viewer: Viewer) -> Any:
    return select(Customer.id).where(
        or_(
            Customer.personal_manager == viewer.username,
            Customer.account_manager == viewer.username,
        )
    )


def _request_grant(grant: Grant, viewer: Viewer) -> Clause:
    if grant == Grant.ALL:
        return true()
    if grant == Grant.MINE:
        return or_(Request.created_by == viewer.username, Request.assignee == viewer.username)
    if grant == Grant.HOTLINE:
        return Request.line == Line.L1.value
    if grant == Grant.TEAM_QUEUE:
        # A person without a team has no team queue: never `queue IS NULL`.
        return Request.queue == viewer.team_code if viewer.team_code else false()
    if grant == Grant.ZONE_QUEUES:
        return _among(Request.queue, viewer.zone_teams)
    if grant == Grant.ZONE_REGIONS:
        return Request.customer_id.in_(_customers_in_regions(viewer))
    if grant == Grant.OWN_CUSTOMERS:
        return Request.customer_id.in_(_customers_managed_by(viewer))
    raise ValueError(f"{grant} does not apply to requests")


def _customer_grant(grant: Grant, viewer: Viewer) -> Clause:
    if grant == Grant.ALL:
        return true()
    if grant == Grant.OWNED:
        return or_(
            Customer.personal_manager == viewer.username,
            Customer.account_manager == viewer.username,
        )
    if grant == Grant.CREATED:
        return Customer.created_by == viewer.username
    raise ValueError(f"{grant} does not apply to customers")


def _deal_grant(grant: Grant, viewer: Viewer) -> Clause:
    if grant == Grant.ALL:
        return true()
    if grant == Grant.OWNED:
        return Deal.owner == viewer.username
    if grant == Grant.ZONE_OWNERS:
        zone = list(viewer.zone_teams or [])
        return Deal.owner.in_(select(User.username).where(User.team_code.in_(zone)))
    if grant == Grant.ZONE_REGIONS:
        return Deal.customer_id.in_(_customers_in_regions(viewer))
    if grant == Grant.TASK_ASSIGNEE:
        # Uncorrelated on purpose: the same predicate filters queries over tasks too.
        return Deal.id.in_(select(DealTask.deal_id).where(DealTask.assignee == viewer.username))
    raise ValueError(f"{grant} does not apply to deals")


def _person_grant(grant: Grant, viewer: Viewer) -> Clause:
    if grant == Grant.ALL:
        return true()
    if grant == Grant.ZONE_TEAMS:
        return _among(User.team_code, viewer.zone_teams)
    raise ValueError(f"{grant} does not apply to people")


BASE: dict[Kind, Callable[[Grant, Viewer], Clause]] = {
    Kind.REQUEST: _request_grant,
    Kind.CUSTOMER: _customer_grant,
    Kind.DEAL: _deal_grant,
    Kind.PERSON: _person_grant,
}


def _base(kind: Kind, viewer: Viewer) -> Clause:
    given = grants(kind, viewer)
    if Grant.ALL in given:
        return true()
    return _any([BASE[kind](grant, viewer) for grant in sorted(given)])


def _ids(kind: Kind, viewer: Viewer) -> Any:
    """The ids of the records of a base kind the viewer may see, as a subquery."""
    key = {
        Kind.REQUEST: Request.id,
        Kind.CUSTOMER: Customer.id,
        Kind.DEAL: Deal.id,
        Kind.PERSON: User.id,
    }[kind]
    return select(key).where(_base(kind, viewer))


def _sees_all(kind: Kind, viewer: Viewer) -> bool:
    return Grant.ALL in grants(kind, viewer)


def _through(column: Any, kind: Kind, viewer: Viewer) -> Clause:
    """`column` names a record of `kind` the viewer may see."""
    return true() if _sees_all(kind, viewer) else column.in_(_ids(kind, viewer))


@dataclass(frozen=True)
class _Seen:
    """What of a viewer the predicates read, and nothing else: the key they are kept by."""

    username: str
    role: str
    team_code: str | None
    zone_teams: tuple[str, ...]
    zone_regions: tuple[str, ...]


def where(kind: Kind, viewer: Viewer) -> Clause:
    """The predicate over `kind`'s table that keeps what the viewer may see."""
    seen = _Seen(
        viewer.username,
        str(viewer.role),
        viewer.team_code,
        tuple(viewer.zone_teams or ()),
        tuple(viewer.zone_regions or ()),
    )
    return _kept(kind, seen)


@lru_cache(maxsize=4096)
def _kept(kind: Kind, viewer: _Seen) -> Clause:
    """Built once per kind and viewer as they are (a page asks for the same predicate in
    each of its counts and lists; building it was a fifth of a queue page's time).
    Statements only read a predicate: sharing one is safe."""
    if kind in BASE:
        return _base(kind, viewer)
    if kind == Kind.TASK:
        return or_(
            DealTask.assignee == viewer.username, _through(DealTask.deal_id, Kind.DEAL, viewer)
        )
    if kind == Kind.NOTE:
        return and_(
            _through(Interaction.customer_id, Kind.CUSTOMER, viewer),
            or_(
                Interaction.request_id.is_(None),
                _through(Interaction.request_id, Kind.REQUEST, viewer),
            ),
        )
    if kind == Kind.FILE:
        return _through(RequestFile.request_id, Kind.REQUEST, viewer)
    if kind == Kind.NOTIFICATION:
        if viewer.role == Role.ADMIN:
            return true()
        return or_(
            and_(
                Notification.request_id.is_not(None),
                _through(Notification.request_id, Kind.REQUEST, viewer),
            ),
            and_(
                Notification.request_id.is_(None),
                _through(Notification.customer_id, Kind.CUSTOMER, viewer),
            ),
            and_(
                Notification.request_id.is_(None),
                Notification.customer_id.is_(None),
                Notification.recipient_key == f"user:{viewer.username}",
            ),
        )
    if kind == Kind.REPRESENTATIVE:
        return _through(Representative.customer_id, Kind.CUSTOMER, viewer)
    if kind == Kind.ABSENCE:
        return _through(Absence.user_id, Kind.PERSON, viewer)
    raise ValueError(f"no rule for {kind}")
