"""Teams and users: created by the CLI and the demo seed, idempotently."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.access.auth import hash_password
from caseflow.models import Request, Team, User
from caseflow.requests.lifecycle import Line, Role, State


async def upsert_team(
    session: AsyncSession,
    *,
    code: str,
    name: str,
    line: Line,
    region: str | None = None,
    requeue_when_away: bool = False,
) -> Team:
    team = await session.get(Team, code)
    if team is None:
        team = Team(code=code, name=name, line=line, region=region)
        session.add(team)
    team.name, team.line, team.region = name, line, region
    team.requeue_when_away = requeue_when_away
    await session.flush()
    return team


async def unstarted_requests(
    session: AsyncSession, username: str, *, only_requeuing_teams: bool = True
) -> list[str]:
    """Workflow ids of the person's requests assigned but not started, in teams that say so."""
    query = select(Request.workflow_id).where(
        Request.assignee == username, Request.state == State.ASSIGNED.value
    )
    if only_requeuing_teams:
        query = query.join(Team, Team.code == Request.queue).where(Team.requeue_when_away.is_(True))
    return list(await session.scalars(query.order_by(Request.seq_no)))


async def upsert_user(
    session: AsyncSession,
    *,
    username: str,
    role: Role,
    full_name: str | None = None,
    team: str | None = None,
    password: str | None = None,
    capacity: int = 20,
    zone_teams: list[str] | None = None,
    zone_regions: list[str] | None = None,
    email: str | None = None,
    skills: dict[str, int] | None = None,
) -> User:
    if team is not None and await session.get(Team, team) is None:
        raise LookupError(f"no team '{team}'")
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, active=True, availability="available")
        session.add(user)
    user.role = role
    user.full_name = full_name or username
    user.team_code = team
    user.capacity = capacity
    user.zone_teams = zone_teams or []
    user.zone_regions = zone_regions or []
    user.email = email
    user.skills = skills or {}
    if password is not None:
        user.password_hash = hash_password(password)
    await session.flush()
    return user


async def team_codes(session: AsyncSession) -> set[str]:
    return set(await session.scalars(select(Team.code)))


async def zone_supervisors(session: AsyncSession, queue: str | None) -> list[str]:
    """Supervisors whose zone holds this queue (every supervisor if the queue is unknown)."""
    rows = await session.execute(
        select(User.username, User.zone_teams).where(
            User.role == Role.SUPERVISOR, User.active.is_(True)
        )
    )
    return [name for name, teams in rows.all() if queue is None or queue in (teams or [])]
