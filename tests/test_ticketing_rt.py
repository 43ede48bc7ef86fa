"""Hand-off to a real Request Tracker 5: the poller brings replies, files and resolution
back, and a Caseflow reply to a resolved ticket does not loop."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from standardwebhooks.webhooks import Webhook
from temporalio.client import Client

from tests.conftest import RT_WEBHOOK_SECRET
from tests.rt_peer import Rt
from tests.test_api import assert_problem
from tests.test_ticketing_otrs import Case, eventually
from workflows.ticket_poller import TicketPollerWorkflow

pytestmark = pytest.mark.timeout(240)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


def rt_history(rt: Rt, ticket_id: str) -> list[dict]:
    with rt.root() as root:
        params: dict[str, str | int] = {
            "fields": "Type,Field,OldValue,NewValue,Creator",
            "per_page": 100,
        }
        return root.get(f"/ticket/{ticket_id}/history", params=params).json()["items"]


async def poll_rounds(client: Client, more: int) -> None:
    """Wait until the RT poller has made `more` further rounds."""
    poller = client.get_workflow_handle_for(TicketPollerWorkflow.run, "ticket-poller-rt")
    start = await poller.query(TicketPollerWorkflow.polled_rounds)

    async def done() -> bool:
        return await poller.query(TicketPollerWorkflow.polled_rounds) >= start + more

    await eventually(done, within=60, what=f"{more} poll rounds")


async def rt_handoff(case: Case) -> str:
    answer = await case.act("handoff", {"system": "rt", "note": "нужна сверка"})
    assert answer.status_code == 200, answer.text
    return str((await case.ticket())["ticket_id"])


async def test_rt_reply_files_and_resolution_come_back_and_a_late_reply_does_not_loop(
    http, tokens, rt: Rt, dev_env
) -> None:
    case = await Case.open(http, tokens)
    ticket_id = await rt_handoff(case)
    with rt.root() as root:
        ticket = root.get(f"/ticket/{ticket_id}").json()
    assert ticket["Subject"].startswith(f"[{case.body['number']}]")

    reply = {
        "Content": "Сверка готова, акт во вложении",
        "ContentType": "text/plain",
        "Attachments": [
            {
                "FileName": "act.png",
                "FileType": "image/png",
                "FileContent": base64.b64encode(PNG).decode(),
            }
        ],
    }
    with rt.dept() as dept:
        assert dept.post(f"/ticket/{ticket_id}/correspond", json=reply).status_code == 201

    async def replied() -> list[dict]:
        return [e for e in await case.events() if e["action"] == "external-reply"]

    got = (await eventually(replied, within=60, what="the RT reply in Caseflow"))[0]
    assert got["reason"] == "Сверка готова, акт во вложении" and got["actor"] == "rt:dept"
    files = (await http.get(f"/api/v1/requests/{case.id}/files", headers=case.headers)).json()
    png = [f for f in files["items"] if f["filename"] == "act.png"]
    assert png and png[0]["source"] == "rt" and png[0]["content_type"] == "image/png"
    body = await http.get(
        f"/api/v1/requests/{case.id}/files/{png[0]['sha256']}", headers=case.headers
    )
    assert body.content == PNG

    with rt.dept() as dept:
        changed = dept.put(f"/ticket/{ticket_id}", json={"Status": "resolved"})
        assert "resolved" in changed.text

    async def back() -> dict | None:
        view = await case.view()
        return view if view["line"] == "L1" else None

    view = await eventually(back, within=60, what="the case back on L1")
    assert view["external"]["status"] == "resolved" and view["state"] == "assigned"

    # A public comment to the resolved ticket: RT reopens it (RT_System), which is our echo.
    comment = await case.act("comment", {"text": "Клиент благодарит", "public": True})
    assert comment.status_code == 200

    def reopened() -> bool:
        return any(
            t["Type"] == "Status"
            and (t["OldValue"], t["NewValue"]) == ("resolved", "open")
            and t["Creator"]["id"] == "RT_System"
            for t in rt_history(rt, ticket_id)
        )

    await eventually(lambda: asyncio.to_thread(reopened), within=60, what="RT reopening")
    await poll_rounds(dev_env.client, 2)  # the poller has read the reopening
    history = rt_history(rt, ticket_id)
    ours = [t for t in history if t["Type"] == "Correspond" and t["Creator"]["id"] == "root"]
    assert len(ours) == 1  # one reply, no loop
    events = await case.events()
    statuses = [e["data"].get("status") for e in events if e["action"] == "external-status"]
    assert statuses[-1] == "resolved"  # the reopening was our echo: not synced back
    view = await case.view()
    assert view["line"] == "L1" and view["external"]["status"] == "resolved"


def signed(body: dict, *, at: datetime | None = None) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    message_id = f"msg_{uuid.uuid4().hex}"
    when = at or datetime.now(UTC)
    signature = Webhook(RT_WEBHOOK_SECRET).sign(message_id, when, raw.decode())
    headers = {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }
    return raw, headers


async def test_signed_rt_events_are_verified_and_meet_the_poller_once(
    http: httpx.AsyncClient, tokens, rt: Rt, dev_env
) -> None:
    case = await Case.open(http, tokens)
    ticket_id = await rt_handoff(case)
    with rt.dept() as dept:
        dept.put(f"/ticket/{ticket_id}", json={"Status": "stalled"})
    txn = [t for t in rt_history(rt, ticket_id) if t["Type"] == "Status"][-1]
    event = {
        "ticket_id": ticket_id,
        "transaction_id": int(txn["id"]),
        "type": "Status",
        "creator": "dept",
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "status": "stalled",
    }
    raw, headers = signed(event, at=datetime.now(UTC) - timedelta(minutes=6))
    stale = assert_problem(
        await http.post("/api/v1/webhooks/rt", content=raw, headers=headers), 400
    )
    assert stale["type"] == "stale_timestamp"
    raw, headers = signed(event)
    tampered = raw.replace(b"stalled", b"rejected")
    assert_problem(await http.post("/api/v1/webhooks/rt", content=tampered, headers=headers), 401)
    answer = await http.post("/api/v1/webhooks/rt", content=raw, headers=headers)
    assert answer.status_code == 200 and answer.json()["status"] in ("accepted", "duplicate")

    async def stalled() -> dict | None:
        view = await case.view()
        return view if view["external"]["status"] == "stalled" else None

    await eventually(stalled, within=30, what="the stalled status applied")
    await poll_rounds(dev_env.client, 2)  # the poller has met the same transaction
    events = [e for e in await case.events() if e["action"] == "external-status"]
    assert [e["data"]["status"] for e in events] == ["stalled"]
    assert (await case.view())["line"] == "external"
