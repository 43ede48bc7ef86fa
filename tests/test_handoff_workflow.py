"""The request workflow with an external ticket, on the time-skipping server: what its
history holds (for the replay tests) and what it does with changes that come back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from caseflow.tickets.connectors import TicketChange
from tests.conftest import capture_history
from tests.helpers import OPERATOR, act, open_request
from tests.otrs_double import OtrsDouble
from workflows.request import RequestWorkflow

pytestmark = pytest.mark.timeout(120)


def change(ticket_id: str, event_id: str, order: float, status: str, meaning: str) -> TicketChange:
    return TicketChange.model_validate(
        {
            "connector": "otrs",
            "ticket_id": ticket_id,
            "event_id": event_id,
            "order": order,
            "kind": "status",
            "at": datetime.now(UTC),
            "status": status,
            "meaning": meaning,
        }
    )


async def test_handoff_and_its_ticket_coming_back_to_close(env, otrs: OtrsDouble) -> None:
    workflow_env, task_queue = env
    handle, view = await open_request(workflow_env.client, task_queue)
    # The rules give it to the operator or to operator-b, whoever is less loaded just now
    # (what earlier tests left open decides); the operator takes it if it is not theirs.
    if view.assignee != OPERATOR.username:
        await act(handle, "take")
    await act(handle, "start")
    handed = await act(handle, "handoff", system="otrs", queue="Billing", text="сверка")
    assert handed.line == "external" and handed.external is not None
    assert handed.external.connector == "otrs"
    await act(handle, "comment", text="ждём отдел", public=True)
    opened = await handle.query(RequestWorkflow.view)
    while opened.external is None or opened.external.ticket_id is None:
        await asyncio.sleep(0.05)
        opened = await handle.query(RequestWorkflow.view)
    ticket_id = opened.external.ticket_id
    closed = change(ticket_id, "e2", 2.0, "closed successful", "resolved")
    older = change(ticket_id, "e1", 1.0, "open", "open")
    await handle.signal(RequestWorkflow.ticket_event, closed)
    await handle.signal(RequestWorkflow.ticket_event, closed)  # a repeat: dropped
    await handle.signal(RequestWorkflow.ticket_event, older)  # stale: recorded only
    back = await handle.query(RequestWorkflow.view)
    while back.line != "L1" or back.last_seq < opened.last_seq + 3:
        await asyncio.sleep(0.05)
        back = await handle.query(RequestWorkflow.view)
    assert back.external is not None and back.external.status == "closed successful"
    assert back.assignee == view.assignee or back.assignee == OPERATOR.username
    assert back.state == "assigned"  # back with its owner, to pick up again
    await act(handle, "start")
    await act(handle, "resolve", text="готово")
    await act(handle, "close")
    result = await handle.result()
    assert result.state == "closed"
    await capture_history(workflow_env.client, handle.id)
