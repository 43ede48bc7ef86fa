"""The lifecycle table: what each role may do from each state."""

from __future__ import annotations

from caseflow.requests.lifecycle import ACTIONS, Line, Role, State, allowed_actions, next_state


def allowed(
    state: State,
    role: Role = Role.OPERATOR,
    *,
    line: Line = Line.L1,
    access: bool = True,
    can_return: bool = False,
) -> list[str]:
    return allowed_actions(
        state=state, role=role, line_access=access, can_return=can_return, line=line
    )


def test_the_main_path() -> None:
    assert next_state("start", State.ASSIGNED) == State.IN_PROGRESS
    assert next_state("request-info", State.IN_PROGRESS) == State.WAITING_CUSTOMER
    assert next_state("customer-reply", State.WAITING_CUSTOMER) == State.IN_PROGRESS
    assert next_state("customer-reply", State.ASSIGNED) == State.ASSIGNED
    assert next_state("resolve", State.WAITING_CUSTOMER) == State.RESOLVED
    assert next_state("close", State.RESOLVED) == State.CLOSED
    assert next_state("reopen", State.RESOLVED) == State.IN_PROGRESS
    assert next_state("comment", State.IN_PROGRESS) == State.IN_PROGRESS


def test_allowed_actions_depend_on_state_role_and_line() -> None:
    assert allowed(State.ASSIGNED) == [
        "take",
        "start",
        "comment",
        "customer-reply",
        "cancel",
        "escalate",
        "handoff",
    ]
    assert allowed(State.RESOLVED) == ["comment", "close", "reopen"]
    assert allowed(State.CLOSED) == []
    assert "reassign" not in allowed(State.IN_PROGRESS)
    assert "reassign" in allowed(State.IN_PROGRESS, Role.SUPERVISOR)
    assert allowed(State.IN_PROGRESS, Role.AGENT, line=Line.L2, access=False) == []
    assert "escalate" not in allowed(State.IN_PROGRESS, Role.AGENT, line=Line.L3)
    assert "return" in allowed(State.IN_PROGRESS, Role.AGENT, line=Line.L3, can_return=True)
    assert allowed(State.IN_PROGRESS, Role.MANAGER) == []
    # With the department already: no second hand-off, no escalation; the owner can take it back.
    external = allowed(State.ASSIGNED, Role.AGENT, line=Line.EXTERNAL, can_return=True)
    assert "handoff" not in external and "escalate" not in external and "return" in external


def test_final_states_allow_nothing() -> None:
    for rule in ACTIONS.values():
        assert State.CLOSED not in rule.sources and State.CANCELLED not in rule.sources
