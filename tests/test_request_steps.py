"""The pure rules of a request's steps (caseflow.requests.steps): the reason a user reads
when a step cannot be made now, and the clocks a request starts with."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from caseflow.payloads import Action, Actor
from caseflow.requests.lifecycle import Line, Role, State
from caseflow.requests.steps import Case, house_rule, illegal, line_access, offered
from caseflow.sla.terms import CalendarTerms, SlaTerms, Targets

MINUTES_10 = timedelta(minutes=10)
AGENT = Actor(username="ivanov", role=Role.AGENT, lines=[Line.L1], team="hotline")


def act(name: str, **fields: object) -> Action:
    return Action.model_validate({"name": name, "actor": AGENT, **fields})


def test_a_step_the_state_does_not_allow_names_the_state() -> None:
    reason = illegal(act("resolve"), state=State.REGISTERED, line=Line.L1, escalated=False)
    assert reason == "cannot resolve a request that is registered"
    assert illegal(act("start"), state=State.ASSIGNED, line=Line.L1, escalated=False) is None


def test_escalation_goes_up_one_of_the_lines_the_table_names() -> None:
    up = act("escalate", to_line="L2")
    assert illegal(up, state=State.IN_PROGRESS, line=Line.L1, escalated=False) is None
    down = act("escalate", to_line="L1")
    assert illegal(down, state=State.IN_PROGRESS, line=Line.L2, escalated=True) == (
        "cannot escalate from L2 to L1"
    )


def test_return_needs_an_escalation_and_reassign_a_target() -> None:
    back = act("return")
    assert "not escalated" in (
        illegal(back, state=State.IN_PROGRESS, line=Line.L2, escalated=False) or ""
    )
    assert illegal(back, state=State.IN_PROGRESS, line=Line.L2, escalated=True) is None
    assert illegal(act("reassign"), state=State.ASSIGNED, line=Line.L1, escalated=False) == (
        "reassign needs an assignee or a queue"
    )


def test_house_rules_refuse_taking_ones_own_and_resolving_below_the_topics_line() -> None:
    mine = house_rule(
        act("take"), line=Line.L1, assignee="ivanov", topic="card_block", resolving_line=None
    )
    assert mine == "this request is already yours"
    low = house_rule(
        act("resolve"), line=Line.L1, assignee="ivanov", topic="outage", resolving_line=Line.L2
    )
    assert low == "outage is resolved on L2 or above; escalate it from L1"
    ok = house_rule(
        act("resolve"), line=Line.L2, assignee="ivanov", topic="outage", resolving_line=Line.L2
    )
    assert ok is None


def test_a_request_starts_with_both_clocks_of_its_line_in_segment_one() -> None:
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    terms = SlaTerms(
        policy="standard",
        calendar=CalendarTerms(
            name="24x7", timezone="UTC", weekly={d: (time(0), time(23, 59)) for d in range(7)}
        ),
        warn_at=0.8,
        targets={
            Line.L1: Targets(first_response=timedelta(minutes=10), resolution=timedelta(hours=8))
        },
    )
    clocks = terms.first_clocks(line=Line.L1, at=at, queue="hotline", assignee="ivanov")
    assert [(c.kind, c.target, c.segment, c.started_at) for c in clocks] == [
        ("first_response", timedelta(minutes=10), 1, at),
        ("resolution", timedelta(hours=8), 1, at),
    ]
    assert all(c.opened_because == "registered" and c.assignee == "ivanov" for c in clocks)
    assert terms.first_clocks(line=Line.L3, at=at, queue=None, assignee=None) == []


def test_offered_steps_follow_line_access_and_the_escalation_hop() -> None:
    held = Case(State.ASSIGNED, Line.L1, "hotline", "ivanov", None, None)
    assert "start" in offered(AGENT, held) and "return" not in offered(AGENT, held)
    elsewhere = Case(State.ASSIGNED, Line.L2, "experts", "petrov", Line.L1, None)
    assert offered(AGENT, elsewhere) == []  # L2 is not this agent's line
    handed = Case(State.ASSIGNED, Line.EXTERNAL, "otrs:billing", None, Line.L1, None)
    assert line_access(AGENT, handed)  # handed off from the agent's line: still theirs to follow
