"""Dependencies: the database session, the caller, the Temporal client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.problems import Problem
from api.state import AppState
from caseflow.access import tokens
from caseflow.access.auth import read_token
from caseflow.models import Team, User
from caseflow.payloads import Actor
from caseflow.platform.settings import Settings
from caseflow.requests.lifecycle import Line, Role


async def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.caseflow
    return state


State = Annotated[AppState, Depends(app_state)]


async def get_settings_dep(state: State) -> Settings:
    return state.settings


async def get_temporal(state: State) -> Client:
    return state.temporal


async def get_db(state: State) -> AsyncIterator[AsyncSession]:
    async with state.sessions() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(get_db)]
Temporal = Annotated[Client, Depends(get_temporal)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]

# Dependencies are coroutines on purpose: FastAPI runs plain functions in a thread pool.
bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/token")


async def current_user(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    if credentials is None:
        raise Problem(401, "unauthorized", "a bearer token is required")
    claims = read_token(credentials.credentials, settings.jwt_secret)
    if claims is None:
        raise Problem(401, "unauthorized", "the token is invalid or expired")
    if claims.get("kind") == "integration" and not await tokens.active(db, str(claims["jti"])):
        raise Problem(401, "unauthorized", "the token was revoked")
    user = await db.scalar(select(User).where(User.username == claims.get("sub")))
    if user is None or not user.active:
        raise Problem(401, "unauthorized", "the token's user is not active")
    request.state.actor, request.state.role = user.username, user.role  # for the audit trail
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def actor_of(user: User, db: AsyncSession) -> Actor:
    """The caller as workflows see them: role and the lines they work."""
    role = Role(user.role)
    if role in (Role.SUPERVISOR, Role.ADMIN):
        lines = list(Line)
    elif role == Role.OPERATOR:
        lines = [Line.L1]
    elif user.team_code:
        team = await db.get(Team, user.team_code)
        lines = [Line(team.line)] if team else []
    else:
        lines = []
    return Actor(username=user.username, role=role, lines=lines, team=user.team_code)


# Per route: the query parameters it declares (its own and its dependencies').
_DECLARED: dict[int, frozenset[str]] = {}


async def known_query(request: Request) -> None:
    """A query parameter the operation does not have is a mistake worth saying (`?asignee=`
    silently listing everything is not): 422 naming each."""
    route = request.scope.get("route")
    if route is None or not request.query_params or not hasattr(route, "dependant"):
        return
    names = _DECLARED.get(id(route))
    if names is None:
        found: set[str] = set()
        pending = [route.dependant]
        while pending:
            dependant = pending.pop()
            found |= {field.alias for field in dependant.query_params}
            pending.extend(dependant.dependencies)
        names = _DECLARED[id(route)] = frozenset(found)
    unknown = sorted(set(request.query_params) - names)
    if unknown:
        reason = "not a parameter of this operation"
        raise Problem(
            422,
            "validation_error",
            f"{', '.join(unknown)}: {reason}",
            errors=[{"field": name, "reason": reason} for name in unknown],
        )
