"""Which steps a caller may make on a request as it is now, and why one cannot be made:
pure rules the workflow checks (and its validator, before anything is written) and the API
offers as `allowed_actions`, with the reason a user reads."""

from __future__ import annotations

from dataclasses import dataclass

from caseflow.payloads import Action, Actor
from caseflow.requests.lifecycle import (
    ACTIONS,
    ESCALATIONS,
    Line,
    State,
    allowed_actions,
    has_line_access,
    may_resolve_on,
    takes_from,
)


@dataclass(frozen=True)
class Case:
    """What the rules need of a request: the workflow's state, or the API's view of it."""

    state: State
    line: Line
    queue: str | None
    assignee: str | None
    handed_by: Line | None  # the line it was last escalated or handed off from
    resolving_line: Line | None


def line_access(actor: Actor, case: Case) -> bool:
    return has_line_access(
        role=actor.role,
        lines=actor.lines,
        line=case.line,
        username=actor.username,
        assignee=case.assignee,
        handed_by=case.handed_by,
    )


def offered(actor: Actor, case: Case) -> list[str]:
    """The actions this caller could make now, in the order of the lifecycle's table."""
    return allowed_actions(
        state=case.state,
        role=actor.role,
        line_access=line_access(actor, case),
        can_return=case.handed_by is not None,
        line=case.line,
        mine=case.assignee == actor.username,
        own_queue=takes_from(actor.role, actor.team, case.queue),
        may_resolve=may_resolve_on(case.line, case.resolving_line),
    )


def illegal(action: Action, *, state: State, line: Line, escalated: bool) -> str | None:
    """The lifecycle's objection to the step, if any (the action is known)."""
    if state not in ACTIONS[action.name].sources:
        return f"cannot {action.name} a request that is {state}"
    if action.name == "escalate":
        targets = ESCALATIONS.get(line, frozenset())
        if action.to_line not in targets:
            return f"cannot escalate from {line} to {action.to_line}"
    if action.name == "return" and not escalated:
        return "this request was not escalated; there is no line to return it to"
    if action.name == "reassign" and not (action.assignee or action.queue):
        return "reassign needs an assignee or a queue"
    if action.name == "set-priority" and not action.priority:
        return "set-priority needs a priority"
    if action.name == "handoff":
        if line == Line.EXTERNAL:
            return "this request is already with an external department"
        if not (action.system and action.queue):
            return "handoff needs a system and a queue"
    return None


def house_rule(
    action: Action, *, line: Line, assignee: str | None, topic: str, resolving_line: Line | None
) -> str | None:
    """The house rules on top of the lifecycle: nobody takes what is already theirs, and a
    topic resolved on a higher line is escalated there rather than resolved below it."""
    if action.name == "take" and assignee == action.actor.username:
        return "this request is already yours"
    if action.name == "resolve" and not may_resolve_on(line, resolving_line):
        return f"{topic} is resolved on {resolving_line} or above; escalate it from {line}"
    return None
