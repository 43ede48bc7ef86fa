"""What each person's step does to a request, one small function per action.

`SHAPE[action]` fills in the event the step records (who holds the request after it, what
the event's data says); `AFTER[action]` runs once the event is in the read model (the
escalation stack, the external ticket). Actions with neither (start, request-info, reply,
resolve, reopen, close, …) change only the state the lifecycle table gives them.
Assigning steps (escalate, reassign) go through routing instead and are not in the tables.

The order of `workflow.patched` calls and activities is the one histories were recorded
with: `tests/test_replay.py` replays them.
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from caseflow.payloads import Action, Assignment, EventRecord, Hop
    from caseflow.requests.lifecycle import Line, State
    from caseflow.tickets.connectors import ExternalTicket
    from workflows.request_tickets import ExternalTickets

ASSIGNING = frozenset({"escalate", "reassign"})
# Since: staff take only from their own queue and never what is already theirs, a topic is
# resolved only on its resolving line or above, and `assignment` follows take and return.
TAKE_RULES_PATCH = "take-own-queue-resolving-line"

Shape = Callable[[ExternalTickets, EventRecord, Action], None]


def by_hand(event: EventRecord, rule: str, explanation: str) -> Assignment:
    """Who holds the request after a person's step (take, return), said like routing does."""
    return Assignment(
        line=event.line, queue=event.queue, assignee=event.assignee, rule=rule,
        explanation=explanation,
    )  # fmt: skip


def _take(case: ExternalTickets, event: EventRecord, action: Action) -> None:
    event.assignee = action.actor.username
    event.to_state = State.ASSIGNED
    if action.override_capacity:
        event.data = {"capacity_override": True}
    if workflow.patched(TAKE_RULES_PATCH):
        over = " over capacity" if action.override_capacity else ""
        event.assignment = by_hand(event, "take", f"taken by {event.assignee}{over}")


def _return(case: ExternalTickets, event: EventRecord, action: Action) -> None:
    back = case.hops[-1]
    event.line, event.queue, event.assignee = back.line, back.queue, back.assignee
    event.to_state = State.ASSIGNED if back.assignee else State.REGISTERED
    if workflow.patched(TAKE_RULES_PATCH):
        why = f": {action.reason}" if action.reason else ""
        event.assignment = by_hand(
            event,
            "return",
            f"returned from {case.line} by {action.actor.username} to whoever held it "
            f"on {back.line}{why}",
        )


def _set_priority(case: ExternalTickets, event: EventRecord, action: Action) -> None:
    event.priority = action.priority or case.priority
    event.data = {"from": case.priority, "to": event.priority}


def _comment(case: ExternalTickets, event: EventRecord, action: Action) -> None:
    event.data = {"public": action.public}
    if action.files:
        event.data["files"] = [f.model_dump() for f in action.files]


def _handoff(case: ExternalTickets, event: EventRecord, action: Action) -> None:
    event.line, event.queue = Line.EXTERNAL, f"{action.system}:{action.queue}"
    event.to_state = State.ASSIGNED
    event.data = {"system": action.system, "queue": action.queue, "ticket": "pending"}


SHAPE: dict[str, Shape] = {
    "take": _take,
    "return": _return,
    "set-priority": _set_priority,
    "comment": _comment,
    "handoff": _handoff,
}


def _returned(case: ExternalTickets, event: EventRecord, action: Action) -> None:
    case.hops.pop()


def _handed_off(case: ExternalTickets, event: EventRecord, action: Action) -> None:
    case.hops.append(Hop(line=case.line, queue=case.queue, assignee=case.assignee))
    assert action.system is not None and action.queue is not None
    case.ticket = ExternalTicket(
        connector=action.system,
        queue=action.queue,
        note=action.text or "",
        closure="return_to_line",
    )
    case._spawn(case._open_ticket(case.ticket))


def _commented(case: ExternalTickets, event: EventRecord, action: Action) -> None:
    # The department hears the case's public replies (and gets files attached in Caseflow)
    # even after giving it back.
    ticket = case.ticket
    if (action.public or action.share) and ticket is not None and ticket.failed is None:
        case._spawn(case._post_to_ticket(ticket, event.seq, action, public=action.public))


AFTER: dict[str, Shape] = {
    "return": _returned,
    "handoff": _handed_off,
    "comment": _commented,
}
