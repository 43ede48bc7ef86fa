"""One assignment decision: a named person, a chosen queue or the live rule book's route,
then the person by eligibility and load, then the rule's overflow, each step explained."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.payloads import AssignInput, Assignment
from caseflow.people.store import team_codes
from caseflow.requests.lifecycle import Line
from caseflow.routing import assignment
from caseflow.routing import state as rules_state
from caseflow.routing.rulebook import RuleHolder
from caseflow.routing.rules import Route


async def decide(session: AsyncSession, data: AssignInput, rules: RuleHolder) -> Assignment:
    """Who gets the request and why; the chosen team's row stays locked until the caller
    commits, so concurrent decisions for one queue never exceed anyone's capacity."""
    actor = data.event.actor
    if data.assignee is not None:
        return await _named(session, data)
    if data.queue is not None:
        team = await assignment.lock_team(session, data.queue)
        route = Route(
            Line(team.line), team.code, "manual", None, f"queue {team.code} chosen by {actor}"
        )
    else:
        version = await rules_state.live_version(session)
        if version != rules.version:
            rules.follow(version, await team_codes(session))
        route = rules.current.route(data.request, for_line=data.for_line)
    need = assignment.Need(at=data.event.at, skill=route.skill, level=route.level)
    line, queue = route.line, route.queue
    if route.person is not None:
        choice = await assignment.choose_person(session, route.person, need)
        if choice.assignee is not None:
            queue = (await assignment.check_person(session, route.person)).team_code
    else:
        assert queue is not None
        choice = await assignment.choose(session, queue, need)
    steps, retry_after = [route.reason, choice.reason], None
    if choice.assignee is None and route.overflow is not None:
        overflow = route.overflow
        if overflow.queue:
            choice = await assignment.choose(session, overflow.queue, need)
            team = await assignment.lock_team(session, overflow.queue)
            line, queue = Line(team.line), team.code
            steps.append(f"overflow to queue {queue}: {choice.reason}")
        elif overflow.supervisor:
            region = data.request.customer.region
            choice = await assignment.choose_supervisor(session, region, need)
            steps.append(f"overflow to the supervisor of {region}: {choice.reason}")
        else:
            retry_after = overflow.hold
            steps.append(f"overflow: held in {queue}, assignment retried every {retry_after}")
    return Assignment(
        line=line,
        queue=queue,
        assignee=choice.assignee,
        rule=route.rule,
        file=route.file,
        explanation="; ".join(steps),
        tried=route.tried,
        candidates=choice.candidates,
        retry_after=retry_after,
    )


async def _named(session: AsyncSession, data: AssignInput) -> Assignment:
    """A person named by whoever assigns: their queue unless one is given."""
    assert data.assignee is not None
    person = await assignment.check_person(session, data.assignee)
    queue = data.queue or person.team_code
    team = await assignment.lock_team(session, queue) if queue else None
    return Assignment(
        line=Line(team.line) if team else data.event.line,
        queue=queue,
        assignee=person.username,
        rule="manual",
        explanation=f"assigned to {person.username} by {data.event.actor}",
    )
