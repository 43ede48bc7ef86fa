"""Hand-off to OTRS/Znuny (the contract double over real HTTP) and its events coming back."""

from __future__ import annotations

import asyncio
import base64
import functools
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from caseflow.models import TicketEventRow
from tests.conftest import OTRS_TOKEN
from tests.otrs_double import OtrsDouble
from tests.test_api import assert_problem, intake

pytestmark = pytest.mark.timeout(180)
BEARER = {"Authorization": f"Bearer {OTRS_TOKEN}"}
PDF = b"%PDF-1.4\n% a scanned act\n%%EOF\n"


async def eventually(
    check: Callable[[], Awaitable[Any]], *, within: float = 30.0, what: str = "condition"
) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {within} s")
        await asyncio.sleep(0.1)


class Case:
    """One request over the API, from the operator's seat."""

    def __init__(self, http: httpx.AsyncClient, tokens: dict, body: dict) -> None:
        self.http, self.tokens, self.body = http, tokens, body
        self.id: str = body["id"]
        self.headers = tokens["operator"]

    @classmethod
    async def open(cls, http: httpx.AsyncClient, tokens: dict, **overrides: object) -> Case:
        # As a client does: a registration no worker confirmed in time (202, the machine is
        # busy with 35 at once) is sent again with its key until it answers 201.
        headers = {**tokens["operator"], "Idempotency-Key": f"case-{uuid.uuid4()}"}
        body = intake(**overrides)
        deadline = time.monotonic() + 60
        answer = await http.post("/api/v1/requests", json=body, headers=headers)
        while answer.status_code == 202 and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            answer = await http.post("/api/v1/requests", json=body, headers=headers)
        assert answer.status_code == 201, answer.text
        case = cls(http, tokens, answer.json())
        if case.body["state"] == "registered":  # everyone is at capacity: take it oneself
            case.body = (await case.act("take")).json()
        assert (await case.act("start")).status_code == 200
        return case

    async def act(self, name: str, body: dict | None = None) -> httpx.Response:
        return await self.http.post(
            f"/api/v1/requests/{self.id}/{name}", json=body or {}, headers=self.headers
        )

    async def view(self) -> dict:
        answer = await self.http.get(f"/api/v1/requests/{self.id}", headers=self.headers)
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def events(self) -> list[dict]:
        answer = await self.http.get(
            f"/api/v1/requests/{self.id}/events?limit=200", headers=self.headers
        )
        return answer.json()["items"]

    async def ticket(self) -> dict:
        async def opened() -> dict | None:
            external = (await self.view())["external"]
            return external if external and external["ticket_id"] else None

        return await eventually(opened, what="ticket opened")

    async def handoff(self, **body: object) -> dict:
        answer = await self.act("handoff", {"system": "otrs", "note": "проверьте счёт", **body})
        assert answer.status_code == 200, answer.text
        return answer.json()


async def deliver(http: httpx.AsyncClient, payload: dict) -> httpx.Response:
    return await http.post("/api/v1/webhooks/otrs", json=payload, headers=BEARER)


async def test_handoff_opens_one_ticket_and_moves_the_case_to_the_external_line(
    http, tokens, otrs: OtrsDouble
) -> None:
    case = await Case.open(http, tokens)
    handed = await case.handoff(queue="Billing")
    assert (handed["line"], handed["queue"], handed["state"]) == (
        "external",
        "otrs:Billing",
        "assigned",
    )
    assert handed["assignee"] == case.body["assignee"]  # the owner follows it up
    ticket = await case.ticket()
    stored = otrs.tickets[ticket["ticket_id"]]
    assert stored["Queue"] == "Billing" and stored["Title"].startswith(f"[{case.body['number']}]")
    assert {"Name": "CaseflowRef", "Value": case.id} in stored["DynamicField"]
    assert "проверьте счёт" in stored["Article"][0]["Body"]
    view = await case.view()
    ola = [c for c in view["sla"]["clocks"] if c["line"] == "external"]
    assert ola and ola[0]["kind"] == "resolution" and ola[0]["stopped_at"] is None
    assert "handoff" not in view["allowed_actions"]
    assert_problem(await case.act("handoff", {"system": "otrs", "note": "again"}), 409)


async def test_handoff_names_a_configured_system_and_queue(http, tokens, otrs) -> None:
    case = await Case.open(http, tokens)
    problem = assert_problem(await case.act("handoff", {"system": "jira", "note": "x"}), 422)
    assert problem["errors"][0]["field"] == "system"
    problem = assert_problem(
        await case.act("handoff", {"system": "otrs", "queue": "Nowhere", "note": "x"}), 422
    )
    assert problem["errors"][0]["field"] == "queue"
    assert (await case.view())["line"] == "L1"


async def test_replies_and_files_come_back_and_closing_returns_the_case(
    http, tokens, otrs: OtrsDouble, sessions
) -> None:
    case = await Case.open(http, tokens)
    await case.handoff()
    ticket_id = (await case.ticket())["ticket_id"]

    scan = {
        "Filename": "act.pdf",
        "ContentType": "application/pdf",
        "Content": base64.b64encode(PDF).decode(),
    }
    reply = otrs.agent_article(ticket_id, "Счёт пересчитан", public=True, files=[scan])
    assert (await deliver(http, reply)).json()["status"] == "accepted"
    again = await deliver(http, reply)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"

    async def replied() -> list[dict]:
        return [e for e in await case.events() if e["action"] == "external-reply"]

    got = (await eventually(replied, what="the reply in the history"))[0]
    assert got["reason"] == "Счёт пересчитан" and got["data"]["files"][0]["filename"] == "act.pdf"
    files = (await http.get(f"/api/v1/requests/{case.id}/files", headers=case.headers)).json()
    assert [(f["filename"], f["source"]) for f in files["items"]] == [("act.pdf", "otrs")]
    assert files["next_cursor"] is None  # a list like every other: cursor-paged
    body = await http.get(
        f"/api/v1/requests/{case.id}/files/{files['items'][0]['sha256']}", headers=case.headers
    )
    assert body.content == PDF and body.headers["content-type"] == "application/pdf"

    # A public Caseflow comment with a file goes to the ticket, and does not come back.
    upload = await http.post(
        f"/api/v1/requests/{case.id}/files",
        files={"file": ("note.txt", "Подпись клиента".encode(), "text/plain")},
        headers=case.headers,
    )
    assert upload.status_code == 201, upload.text
    sha = upload.json()["sha256"]

    async def shared() -> dict | None:  # the department has the case: the upload goes too
        notes = [a for a in otrs.tickets[ticket_id]["Article"] if "attached note.txt" in a["Body"]]
        return notes[0] if notes else None

    attached = await eventually(shared, what="the upload in OTRS")
    assert attached["IsVisibleForCustomer"] == 0
    assert [a["Filename"] for a in attached["Attachment"]] == ["note.txt"]
    comment = await case.act("comment", {"text": "Клиент согласен", "public": True, "files": [sha]})
    assert comment.status_code == 200, comment.text

    async def posted() -> dict | None:
        ours = [a for a in otrs.tickets[ticket_id]["Article"] if a["Body"] == "Клиент согласен"]
        return ours[0] if ours else None

    article = await eventually(posted, what="the comment in OTRS")
    assert article["IsVisibleForCustomer"] == 1
    assert article["Attachment"][0]["Filename"] == "note.txt"
    assert base64.b64decode(article["Attachment"][0]["Content"]) == "Подпись клиента".encode()
    echo = await deliver(http, otrs.delivery(ticket_id, "ArticleCreate"))
    assert echo.json()["status"] == "accepted"

    pending = otrs.agent_state(ticket_id, "pending reminder")
    closed = otrs.agent_state(ticket_id, "closed successful")
    assert (await deliver(http, closed)).json()["status"] == "accepted"

    async def returned() -> dict | None:
        view = await case.view()
        return view if view["line"] == "L1" else None

    view = await eventually(returned, what="the case back on its line")
    assert view["assignee"] == case.body["assignee"] and view["state"] == "assigned"
    assert view["external"]["status"] == "closed successful"
    # The older state arrives late: recorded, the case does not move back.
    assert (await deliver(http, pending)).json()["status"] == "accepted"

    async def stale_seen() -> list[dict]:
        return [e for e in await case.events() if e["data"].get("stale")]

    await eventually(stale_seen, what="the stale status recorded")
    events = await case.events()
    assert (await case.view())["line"] == "L1"
    assert [e["action"] for e in events].count("external-reply") == 1  # our own not echoed
    assert [e["action"] for e in events].count("return") == 1
    async with sessions() as session:
        count = select(func.count()).select_from(TicketEventRow)
        assert await session.scalar(count.where(TicketEventRow.request_id == case.id)) == 4


async def test_closing_closes_the_case_where_the_topic_says_so(http, tokens, otrs) -> None:
    case = await Case.open(http, tokens, topic="complaint")
    await case.handoff()
    ticket = await case.ticket()
    assert ticket["closure"] == "close_case" and ticket["queue"] == "Legal"
    await deliver(http, otrs.agent_state(ticket["ticket_id"], "closed successful"))

    async def closed() -> dict | None:
        view = await case.view()
        return view if view["state"] == "closed" else None

    view = await eventually(closed, what="the case closed")
    assert all(c["stopped_at"] for c in view["sla"]["clocks"])


async def test_cancelling_a_handed_off_case_closes_its_ticket_with_a_note(
    http, tokens, otrs: OtrsDouble
) -> None:
    case = await Case.open(http, tokens)
    await case.handoff()
    ticket_id = (await case.ticket())["ticket_id"]
    cancelled = await case.act("cancel", {"reason": "клиент отозвал заявку"})
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"

    async def closed_there() -> dict | None:
        ticket = otrs.tickets[ticket_id]
        return ticket if ticket["State"] == "closed successful" else None

    ticket = await eventually(closed_there, what="the ticket closed in OTRS")
    note = ticket["Article"][-1]
    assert note["Body"] == "Caseflow: cancel by operator: клиент отозвал заявку"
    assert note["IsVisibleForCustomer"] == 0
    echo = await deliver(http, otrs.delivery(ticket_id, "TicketStateUpdate"))
    assert echo.status_code == 200 and echo.json()["status"] in ("ignored", "accepted")
    assert (await case.view())["state"] == "cancelled"


async def test_a_system_down_at_handoff_is_retried_and_nothing_is_lost(
    http, tokens, otrs: OtrsDouble
) -> None:
    case = await Case.open(http, tokens)
    otrs.down = True
    try:
        await case.handoff()
        await asyncio.sleep(1.5)
        view = await case.view()
        assert view["external"]["state"] == "hand-off pending" and view["line"] == "external"
        comment = await case.act("comment", {"text": "пока ждём", "public": True})
        assert comment.status_code == 200
    finally:
        otrs.down = False
    ticket = await case.ticket()
    mine = [t for t in otrs.tickets.values() if t["Title"].startswith(f"[{case.body['number']}]")]
    assert [t["TicketID"] for t in mine] == [ticket["ticket_id"]]

    async def comment_arrived() -> bool:
        return any(a["Body"] == "пока ждём" for a in otrs.tickets[ticket["ticket_id"]]["Article"])

    await eventually(comment_arrived, what="the comment made while pending")


async def test_a_create_answered_too_late_is_found_not_made_twice(
    http, tokens, otrs: OtrsDouble
) -> None:
    case = await Case.open(http, tokens)
    before = otrs.creates
    otrs.hang_after_create = 1  # created, then the answer outlives the connector's timeout
    await case.handoff()
    ticket = await case.ticket()
    assert otrs.creates == before + 1
    mine = [t for t in otrs.tickets.values() if t["Title"].startswith(f"[{case.body['number']}]")]
    assert len(mine) == 1 and mine[0]["TicketID"] == ticket["ticket_id"]

    # Taken back in Caseflow: the department gets an internal note and follows no more.
    back = await case.act("return", {"reason": "клиент передумал"})
    assert back.status_code == 200 and back.json()["line"] == "L1", back.text

    async def told() -> dict | None:
        notes = [a for a in mine[0]["Article"] if "клиент передумал" in a["Body"]]
        return notes[0] if notes else None

    note = await eventually(told, what="the note to the department")
    assert note["IsVisibleForCustomer"] == 0 and note["Body"].startswith("Caseflow: return by")
    assert (await case.view())["external"]["active"] is False


async def test_bad_deliveries_are_refused_and_nothing_is_recorded(
    http, tokens, otrs: OtrsDouble, sessions
) -> None:
    case = await Case.open(http, tokens)
    await case.handoff()
    ticket_id = (await case.ticket())["ticket_id"]
    good = otrs.delivery(ticket_id, "TicketStateUpdate")

    async def recorded() -> int:
        async with sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(TicketEventRow)) or 0)

    before = await recorded()
    wrong = await http.post(
        "/api/v1/webhooks/otrs", json=good, headers={"Authorization": "Bearer nope"}
    )
    assert_problem(wrong, 401)
    assert_problem(await http.post("/api/v1/webhooks/otrs", json=good), 401)
    assert_problem(await http.post("/api/v1/webhooks/jira", json=good, headers=BEARER), 404)
    broken = await http.post(
        "/api/v1/webhooks/otrs",
        content=b"{not json",
        headers={**BEARER, "content-type": "application/json"},
    )
    assert assert_problem(broken, 422)["errors"][0]["field"] == "body"
    bad_time = {**good, "Ticket": {**good["Ticket"], "Changed": "yesterday"}}
    problem = assert_problem(await deliver(http, bad_time), 422)
    assert problem["errors"][0]["field"] == "Ticket.Changed"
    assert_problem(await deliver(http, {"Ticket": good["Ticket"]}), 422)
    assert await recorded() == before


async def test_shuffled_duplicated_stale_deliveries_end_in_the_newest_state(
    http, tokens, otrs: OtrsDouble, sessions
) -> None:
    """1,000 deliveries, 30 % of them repeats, in random order: each case ends as its
    newest event says, each event is recorded once, and no case moves twice."""
    rng = random.Random(7)
    cases = await asyncio.gather(*(Case.open(http, tokens) for _ in range(35)))
    await asyncio.gather(*(case.handoff() for case in cases))
    tickets = [(await case.ticket())["ticket_id"] for case in cases]
    unique: list[dict] = []
    last: dict[str, str] = {}
    for index, ticket_id in enumerate(tickets):
        states = ["open", "pending reminder"] * 10
        if index % 2 == 0:
            states[-1] = "closed successful"
        for state in states:
            unique.append(otrs.agent_state(ticket_id, state))
        last[ticket_id] = states[-1]
    deliveries = unique + rng.sample(unique, 300)
    rng.shuffle(deliveries)
    assert len(deliveries) == 1000

    answers: list[httpx.Response] = []
    for start in range(0, len(deliveries), 25):
        chunk = deliveries[start : start + 25]
        answers += await asyncio.gather(*(deliver(http, d) for d in chunk))
    statuses = [a.json()["status"] for a in answers]
    assert statuses.count("accepted") == 700 and statuses.count("duplicate") == 300
    async with sessions() as session:
        rows = select(func.count()).select_from(TicketEventRow)
        ids = [case.id for case in cases]
        assert await session.scalar(rows.where(TicketEventRow.request_id.in_(ids))) == 700

    async def settled(case: Case, closed: bool) -> tuple[dict, list[dict]] | None:
        view, events = await case.view(), await case.events()
        seen = [e for e in events if e["action"] == "external-status"]
        done = len(seen) == 20 and (view["line"] == "L1" or not closed)
        return (view, await case.events()) if done else None

    for case, ticket_id in zip(cases, tickets, strict=True):
        closed = last[ticket_id] == "closed successful"
        view, events = await eventually(
            functools.partial(settled, case, closed), what="all deliveries applied"
        )
        assert view["external"]["status"] == last[ticket_id]
        assert view["line"] == ("L1" if closed else "external")
        assert [e["action"] for e in events].count("return") == (1 if closed else 0)
        applied = [
            e for e in events if e["action"] == "external-status" and not e["data"].get("stale")
        ]
        orders = [e["data"]["order"] for e in applied]
        assert orders == sorted(orders) and len(set(orders)) == len(orders)
