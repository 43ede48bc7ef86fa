"""Choosing the person for a request: eligible first, then least loaded, then round-robin.

Eligible means active, available (not away or off, not in a planned absence), holding the
required skill at the required level, and below capacity. The team row is locked for the
choice, so concurrent intakes into one queue are serialised and never push anyone past
capacity; the round-robin cursor lives in the same row, so it is fair across workers.
Every candidate carries the reason it won or lost: that is the decision's explanation.
"""

from __future__ import annotations

import functools
import heapq
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, bindparam, exists, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.models import Absence, Request, Team, User
from caseflow.people.schedule import WorkSchedule
from caseflow.requests.lifecycle import OPEN_STATES, Role

ASSIGNABLE_ROLES = (Role.OPERATOR, Role.AGENT, Role.SUPERVISOR, Role.MANAGER)


class UnknownQueue(LookupError):
    pass


class UnknownAssignee(LookupError):
    pass


@dataclass(frozen=True)
class Need:
    """What the request asks of its assignee, and when the decision is made."""

    at: datetime
    skill: str | None = None
    level: int = 1


@dataclass(slots=True)
class Candidate:
    """One person as the choice sees them (built for every member of the team at every
    decision: a plain slotted class, half a microsecond each instead of a frozen one's
    one and a half)."""

    username: str
    open: int
    capacity: int
    availability: str
    absent: bool
    skill_level: int | None
    off_shift: str | None = None  # the schedule, when the decision falls outside it

    @property
    def load(self) -> float:
        return self.open / self.capacity if self.capacity > 0 else float("inf")

    def why_not(self, need: Need) -> str | None:
        """None if eligible, else the first reason this person cannot take the request."""
        if self.availability != "available":
            return f"is {self.availability}"
        if self.absent:
            return "is absent (planned)"
        if self.off_shift:
            return f"is off shift ({self.off_shift})"
        if need.skill and (self.skill_level or 0) < need.level:
            return f"{need.skill} level {self.skill_level or 0} < {need.level}"
        if self.open >= self.capacity:
            return f"at capacity ({self.open}/{self.capacity})"
        return None

    def as_dict(self, eligible: bool, verdict: str) -> dict[str, object]:
        return {
            "username": self.username,
            "open": self.open,
            "capacity": self.capacity,
            "load": round(self.load, 3),
            "availability": self.availability,
            "absent": self.absent,
            "off_shift": self.off_shift is not None,
            "skill_level": self.skill_level,
            "eligible": eligible,
            "verdict": verdict,
        }


@dataclass(frozen=True)
class Choice:
    assignee: str | None
    candidates: list[dict[str, object]]
    reason: str


@dataclass(frozen=True)
class LockedTeam:
    """The team row as a decision holds it locked: its line and round-robin cursor."""

    code: str
    line: str
    rr_cursor: str | None


LOCKING_TEAM = (
    select(Team.code, Team.line, Team.rr_cursor)
    .where(Team.code == bindparam("queue"))
    .with_for_update()
)
MOVING_CURSOR = (
    update(Team).where(Team.code == bindparam("queue")).values(rr_cursor=bindparam("cursor"))
)


async def lock_team(session: AsyncSession, queue: str) -> LockedTeam:
    """The team's row locked until the caller commits (read and moved by plain statements
    built once: every intake takes this lock)."""
    found = (await (await session.connection()).execute(LOCKING_TEAM, {"queue": queue})).first()
    if found is None:
        raise UnknownQueue(queue)
    return LockedTeam(*found)


@functools.lru_cache(maxsize=256)
def _candidates_query(skill: str | None, *, by_queue: bool, by_name: bool) -> Select[Any]:
    """The people to choose among, each one's open requests and absence: built once per
    skill (a handful) and filter; the moment, queue and names are its parameters. One pass
    over the people, each one's open requests counted by the (assignee, state) index: no
    join of the team with itself, a plan made in a fraction of a millisecond."""
    open_requests = (
        select(func.count())
        .where(
            Request.assignee == User.username,
            Request.state.in_([s.value for s in OPEN_STATES]),
        )
        .scalar_subquery()
    )
    at = bindparam("at", type_=Absence.starts_at.type)
    absent = exists().where(
        Absence.user_id == User.id, Absence.starts_at <= at, Absence.ends_at > at
    )
    # Only the one skill level wanted, extracted by the database: no JSON parsed per person.
    level = User.skills[skill].as_integer() if skill else literal(None, Integer)
    query = select(
        User.username,
        User.capacity,
        User.availability,
        level,
        open_requests,
        absent,
        User.schedule,
    ).where(User.active.is_(True))
    if by_queue:
        query = query.where(
            User.team_code == bindparam("queue"),
            User.role.in_([Role.OPERATOR.value, Role.AGENT.value]),
        )
    if by_name:
        query = query.where(User.username.in_(bindparam("usernames", expanding=True)))
    return query.order_by(User.username)


async def candidates(
    session: AsyncSession,
    need: Need,
    *,
    queue: str | None = None,
    usernames: list[str] | None = None,
) -> list[Candidate]:
    query = _candidates_query(need.skill, by_queue=queue is not None, by_name=usernames is not None)
    params: dict[str, Any] = {"at": need.at}
    if queue is not None:
        params["queue"] = queue
    if usernames is not None:
        params["usernames"] = usernames
    # Plain rows from the connection: the session's ORM would wrap each of the 500.
    rows = await (await session.connection()).execute(query, params)
    return [
        Candidate(
            name,
            int(n),
            capacity,
            availability,
            bool(away),
            skill_level,
            off_shift(schedule, need.at),
        )
        for name, capacity, availability, skill_level, n, away, schedule in rows
    ]


def off_shift(schedule: dict[str, Any] | None, at: datetime) -> str | None:
    if schedule is None:
        return None
    hours = WorkSchedule.model_validate(schedule)
    return None if hours.on_shift(at) else hours.describe()


# A person judged: their verdict (None: eligible) and load, worked out once per decision.
Judged = tuple[Candidate, str | None, float]


def pick(people: list[Candidate], need: Need, cursor: str | None) -> Choice:
    """The eligible person with the lowest load; among equals, the next after `cursor`."""
    judged: list[Judged] = [(c, c.why_not(need), c.load) for c in people]
    eligible = [(c, load) for c, reason, load in judged if reason is None]
    if not eligible:
        listed = explain(judged, None, 0.0, 0)
        detail = "; ".join(f"{c.username} {reason}" for c, reason, _ in judged[:MAX_LISTED])
        return Choice(
            None, listed, f"nobody eligible: {detail}" if people else "nobody eligible (no members)"
        )
    lowest = min(load for _, load in eligible)
    tied = [c for c, load in eligible if load == lowest]
    after_cursor = [c for c in tied if cursor is None or c.username > cursor]
    winner = (after_cursor or tied)[0]
    reason = f"{winner.username} has the lowest load ({winner.open}/{winner.capacity})"
    if len(tied) > 1:
        reason += f"; tied with {len(tied) - 1} other(s), broken round-robin"
    return Choice(winner.username, explain(judged, winner, lowest, len(tied)), reason)


# A decision lists this many candidates with their verdicts, and counts the rest.
MAX_LISTED = 25


def explain(
    judged: list[Judged], winner: Candidate | None, lowest: float, tied: int
) -> list[dict[str, object]]:
    """Each candidate's verdict: the winner and the closest contenders first."""
    ranked = heapq.nsmallest(
        MAX_LISTED, judged, key=lambda v: (v[0] is not winner, v[1] is not None, v[2])
    )  # as sorted(…)[:MAX_LISTED], without ordering the rest
    listed: list[dict[str, object]] = []
    for candidate, reason, load in ranked:
        if candidate is winner:
            verdict = "chosen" + (", round-robin among equals" if tied > 1 else "")
        elif reason:
            verdict = f"not eligible: {reason}"
        elif load > lowest:
            verdict = f"higher load ({candidate.open}/{candidate.capacity})"
        else:
            verdict = "equal load; round-robin chose another"
        listed.append(candidate.as_dict(reason is None, verdict))
    rest = len(judged) - len(ranked)
    if rest:
        ineligible = sum(1 for _, reason, _ in judged if reason) - sum(
            1 for _, reason, _ in ranked if reason
        )
        listed.append(
            {
                "username": "…",
                "verdict": f"{rest} more: {ineligible} not eligible, {rest - ineligible} eligible",
            }
        )
    return listed


async def choose(session: AsyncSession, queue: str, need: Need) -> Choice:
    """Pick the agent for one more request in `queue`, advancing the round-robin cursor."""
    team = await lock_team(session, queue)
    choice = pick(await candidates(session, need, queue=queue), need, team.rr_cursor)
    if choice.assignee is not None:
        await (await session.connection()).execute(
            MOVING_CURSOR, {"queue": queue, "cursor": choice.assignee}
        )
    return choice


async def choose_person(session: AsyncSession, username: str, need: Need) -> Choice:
    """A named person (a VIP's personal manager): them if eligible, else nobody."""
    people = await candidates(session, need, usernames=[username])
    if not people:
        return Choice(None, [], f"{username} is not an active user")
    return pick(people, need, None)


async def choose_supervisor(session: AsyncSession, region: str, need: Need) -> Choice:
    """The region's supervisor: the overflow of last resort."""
    supervisors = await session.scalars(
        select(User).where(User.role == Role.SUPERVISOR.value, User.active.is_(True))
    )
    in_region = [u.username for u in supervisors if region in (u.zone_regions or [])]
    if not in_region:
        return Choice(None, [], f"no supervisor covers region {region}")
    plain = Need(at=need.at)  # a supervisor takes it whatever the skill
    return pick(await candidates(session, plain, usernames=in_region), plain, None)


async def check_person(session: AsyncSession, username: str) -> User:
    user = await session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise UnknownAssignee(username)
    return user
