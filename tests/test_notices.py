"""Which steps are mailed, to whom, with what: the mapping from request events to notices."""

from __future__ import annotations

from datetime import UTC, datetime

from caseflow.mail.notices import breach_notice, customer_notice
from caseflow.payloads import EventRecord
from caseflow.platform.settings import ROOT
from caseflow.requests.lifecycle import Line, State
from caseflow.requests.topics import book_beside

TOPICS = book_beside(ROOT / "routing_rules")


def event(action: str, **data: object) -> EventRecord:
    return EventRecord(
        workflow_id="request-1",
        request_id="1",
        seq=7,
        at=datetime(2026, 11, 23, tzinfo=UTC),
        actor="system",
        actor_role="system",
        action=action,
        from_state=State.ASSIGNED,
        to_state=State.ASSIGNED,
        line=Line.L1,
        queue="hotline",
        assignee="operator",
        priority="normal",
        data=dict(data),
    )


def test_a_breach_tells_the_supervisor_only_if_the_policy_says_so() -> None:
    told = event(
        "sla-breach", clock="first_response", line="L1", target=7200.0, policy="standard",
        notify=["assignee", "supervisor"],
    )  # fmt: skip
    found = breach_notice(told, "supervisor")
    assert found is not None
    recipient, notice = found
    assert recipient == "user:supervisor" and notice.importance == "critical"
    assert notice.data["clock"] == {
        "kind": "first_response", "line": "L1", "target": 7200.0, "policy": "standard",
    }  # fmt: skip
    assert breach_notice(event("sla-breach", notify=["assignee"]), "supervisor") is None
    assert breach_notice(event("sla-warning", notify=["supervisor"]), "supervisor") is None


def test_customers_hear_of_their_requests_steps_with_the_topics_importance() -> None:
    found = customer_notice(event("resolve"), "c1", "card_block", TOPICS)
    assert found is not None and found[0] == "customer:c1"
    assert (found[1].event, found[1].importance) == ("request_resolved", "critical")
    assert customer_notice(event("take"), "c1", "consultation", TOPICS) is None
