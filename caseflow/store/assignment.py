"""Choosing the agent inside a queue: available, below capacity, least loaded, then round-robin.

The team row is locked for the choice, so concurrent intakes into one queue are serialised
and never push an agent past capacity; the round-robin cursor lives in the same row.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.lifecycle import OPEN_STATES, Role
from caseflow.models import Request, Team, User

ASSIGNABLE_ROLES = (Role.OPERATOR, Role.AGENT)


class UnknownQueue(LookupError):
    pass


class UnknownAssignee(LookupError):
    pass


@dataclass(frozen=True)
class Candidate:
    username: str
    open: int
    capacity: int
    available: bool

    @property
    def eligible(self) -> bool:
        return self.available and self.open < self.capacity

    def as_dict(self) -> dict[str, object]:
        return {
            "username": self.username,
            "open": self.open,
            "capacity": self.capacity,
            "available": self.available,
            "eligible": self.eligible,
        }


@dataclass(frozen=True)
class Choice:
    assignee: str | None
    candidates: list[Candidate]
    reason: str


def _open_counts():  # type: ignore[no-untyped-def]
    return (
        select(Request.assignee, func.count().label("open"))
        .where(Request.state.in_([s.value for s in OPEN_STATES]), Request.assignee.is_not(None))
        .group_by(Request.assignee)
        .subquery()
    )


async def lock_team(session: AsyncSession, queue: str) -> Team:
    team = await session.scalar(select(Team).where(Team.code == queue).with_for_update())
    if team is None:
        raise UnknownQueue(queue)
    return team


async def candidates(session: AsyncSession, queue: str) -> list[Candidate]:
    counts = _open_counts()
    rows = await session.execute(
        select(User.username, User.capacity, User.available, func.coalesce(counts.c.open, 0))
        .outerjoin(counts, counts.c.assignee == User.username)
        .where(
            User.team_code == queue,
            User.active.is_(True),
            User.role.in_([r.value for r in ASSIGNABLE_ROLES]),
        )
        .order_by(User.username)
    )
    return [Candidate(name, int(n), cap, bool(avail)) for name, cap, avail, n in rows]


async def choose(session: AsyncSession, queue: str) -> Choice:
    """Pick the agent for one more request in `queue`, advancing the round-robin cursor."""
    team = await lock_team(session, queue)
    people = await candidates(session, queue)
    eligible = [c for c in people if c.eligible]
    if not eligible:
        return Choice(
            None,
            people,
            f"nobody in {queue} is available below capacity; the request waits in the queue",
        )
    lowest = min(c.open / c.capacity for c in eligible)
    tied = [c for c in eligible if c.open / c.capacity == lowest]
    after_cursor = [c for c in tied if team.rr_cursor is None or c.username > team.rr_cursor]
    winner = (after_cursor or tied)[0]
    team.rr_cursor = winner.username
    reason = f"{winner.username} has the lowest load ({winner.open}/{winner.capacity})"
    if len(tied) > 1:
        reason += f"; tied with {len(tied) - 1} other(s), broken round-robin"
    return Choice(winner.username, people, reason)


async def check_person(session: AsyncSession, username: str) -> User:
    user = await session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise UnknownAssignee(username)
    return user
