"""Which steps of a request someone hears about by e-mail, as notices for their notifier."""

from __future__ import annotations

from typing import Any

from caseflow.mail.context import Notice
from caseflow.payloads import EventRecord
from caseflow.requests.topics import TopicBook

# Request steps the customer is told about, and the template event of each.
CUSTOMER_EVENTS = {
    "register": "request_registered",
    "assign": "request_assigned",
    "request-info": "info_requested",
    "resolve": "request_resolved",
    "close": "request_closed",
}


def customer_event(event: EventRecord) -> str | None:
    """The template event of a step the customer hears about: an agent's public comment
    is the answer they get by e-mail (and a reply to it threads back into the case)."""
    if event.action == "comment":
        return "agent_reply" if event.data.get("public") else None
    return CUSTOMER_EVENTS.get(event.action)


def customer_notice(
    event: EventRecord, customer_id: str, topic: str, topics: TopicBook
) -> tuple[str, Notice] | None:
    """(recipient key, notice) for the customer, if this step is one they hear about."""
    name = customer_event(event)
    if name is None or (name == "request_assigned" and not event.assignee):
        return None
    data: dict[str, Any] = {"message": event.reason or ""}
    if event.assignee:
        data["assignee"] = event.assignee
    return f"customer:{customer_id}", Notice(
        key=f"{event.workflow_id}:{event.seq}",
        event=name,
        request_id=event.request_id,
        topic=topic,
        importance=topics.importance(topic),
        at=event.at,
        data=data,
    )


def _clock(data: dict[str, Any]) -> dict[str, Any]:
    return {"kind": data.get("clock"), **{k: data.get(k) for k in ("line", "target", "policy")}}


def assignee_notice(event: EventRecord) -> tuple[str, Notice] | None:
    """An SLA warning or breach the policy says the assignee hears of: critical, alone."""
    name = {"sla-warning": "sla_warning_assignee", "sla-breach": "sla_breach_assignee"}.get(
        event.action
    )
    if name is None or not event.assignee or "assignee" not in event.data.get("notify", []):
        return None
    return f"user:{event.assignee}", Notice(
        key=f"{event.workflow_id}:{event.seq}:{event.assignee}",
        event=name,
        request_id=event.request_id,
        importance="critical",
        at=event.at,
        data={"clock": _clock(event.data)},
    )


def breach_tells_supervisors(event: EventRecord) -> bool:
    return event.action == "sla-breach" and "supervisor" in event.data.get("notify", [])


def breach_notice(event: EventRecord, supervisor: str) -> tuple[str, Notice] | None:
    """A breach the policy says the supervisor must hear about: critical, never digested."""
    if not breach_tells_supervisors(event):
        return None
    clock = _clock(event.data)
    return f"user:{supervisor}", Notice(
        key=f"{event.workflow_id}:{event.seq}:{supervisor}",
        event="sla_breach_supervisor",
        request_id=event.request_id,
        importance="critical",
        at=event.at,
        data={"clock": clock, "assignee": event.assignee},
    )


# A later notice of the same request makes these earlier ones out of date: the customer is
# not asked for information in the same breath as being told the request is resolved.
SUPERSEDED_BY = {
    "request_assigned": {"request_assigned", "request_resolved", "request_closed"},
    "info_requested": {"request_resolved", "request_closed"},
    "request_resolved": {"request_closed"},
}


def superseded(notices: list[Notice]) -> list[Notice]:
    """The notices (in the order given) a later notice of the same request overtook."""
    stale = []
    for i, earlier in enumerate(notices):
        overtaken_by = SUPERSEDED_BY.get(earlier.event, set())
        if earlier.request_id and any(
            later.request_id == earlier.request_id and later.event in overtaken_by
            for later in notices[i + 1 :]
        ):
            stale.append(earlier)
    return stale


def per_request(notices: list[Notice]) -> list[list[Notice]]:
    """One e-mail per request (in order of each request's first notice); a critical notice
    always alone, never merged into a digest."""
    groups: dict[str | None, list[Notice]] = {}
    alone: list[list[Notice]] = []
    for notice in notices:
        if notice.importance == "critical":
            alone.append([notice])
        else:
            groups.setdefault(notice.request_id, []).append(notice)
    return alone + list(groups.values())
