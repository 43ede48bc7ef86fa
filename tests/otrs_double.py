"""A contract double of Znuny/OTRS GenericTicketConnectorREST, served over real HTTP.

It does exactly what Znuny's GenericInterface documentation lists, with in-memory state:
the six operations, errors as HTTP 200 with an `Error` member, string ids, `Changed` as
`YYYY-MM-DD HH:MM:SS` local time, configurable state names with their types, and no
idempotency on TicketCreate. Test controls (`down`, `hang_after_create`) and an agent's
own actions (`agent_state`, `agent_article`) build the invoker's deliveries for Caseflow.

Beyond the contract's text (read-only here, so listed instead): the connector reads these
members of TicketGet's `Article` items, as Znuny returns them — `ArticleID`, `From`,
`CreateBy`, `IsVisibleForCustomer`, `Body`, `CreateTime`, and `Attachment` items with
`Filename`, `ContentType`, `Content` (base64); TicketUpdate answers `ArticleID` when it
added an article. The double has exactly these and nothing else.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from datetime import datetime, timedelta
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

STATES = {
    "new": "new",
    "open": "open",
    "pending reminder": "pending reminder",
    "pending auto close+": "pending auto",
    "closed successful": "closed",
    "closed unsuccessful": "closed",
    "merged": "merged",
    "removed": "removed",
}
USER, PASSWORD = "caseflow", "secret-otrs"


def error(code: str, message: str) -> JSONResponse:
    return JSONResponse({"Error": {"ErrorCode": code, "ErrorMessage": message}})


class OtrsDouble:
    def __init__(self, port: int, queues: tuple[str, ...] = ("Billing", "Legal")) -> None:
        self.port = port
        self.queues = set(queues)
        self.tickets: dict[str, dict[str, Any]] = {}
        self.sessions: set[str] = set()
        self.ids = itertools.count(1)
        self.articles = itertools.count(1)
        self.history = itertools.count(1)
        self.clock = datetime(2026, 11, 22, 12, 0, 0)
        self.down = False
        self.hang_after_create = 0  # answer this many creates only after the client gave up
        self.creates = 0
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/otrs/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST"

    # --- server ------------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(
                    "/otrs/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST/Session",
                    self.session_create,
                    methods=["POST"],
                ),
                Route(
                    "/otrs/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST/Ticket",
                    self.ticket_create,
                    methods=["POST"],
                ),
                Route(
                    "/otrs/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST/Ticket",
                    self.ticket_search,
                    methods=["GET"],
                ),
                Route(
                    "/otrs/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST/Ticket/{id}",
                    self.ticket_get,
                    methods=["GET"],
                ),
                Route(
                    "/otrs/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST/Ticket/{id}",
                    self.ticket_update,
                    methods=["PATCH"],
                ),
                Route(
                    "/otrs/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST/TicketHistory/{id}",
                    self.history_get,
                    methods=["GET"],
                ),
            ]
        )

    def start(self) -> None:
        config = uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="error")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)

    def stop(self) -> None:
        assert self.server is not None and self.thread is not None
        self.server.should_exit = True
        self.thread.join(5)

    # --- helpers -----------------------------------------------------------------------------

    def tick(self) -> str:
        self.clock += timedelta(seconds=1)
        return self.clock.strftime("%Y-%m-%d %H:%M:%S")

    async def body(self, request: Request) -> dict[str, Any]:
        if request.method == "GET":
            return dict(request.query_params)
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def authorised(self, data: dict[str, Any]) -> bool:
        if data.get("SessionID") in self.sessions:
            return True
        return data.get("UserLogin") == USER and data.get("Password") == PASSWORD

    def unavailable(self) -> Response | None:
        return Response("Service Unavailable", status_code=503) if self.down else None

    def add_article(
        self,
        ticket: dict[str, Any],
        article: dict[str, Any],
        attachments: list[dict[str, Any]],
        by: str,
    ) -> str:
        article_id = str(next(self.articles))
        ticket["Article"].append(
            {
                "ArticleID": article_id,
                "From": by,
                "CreateBy": by,
                "SenderType": article.get("SenderType", "agent"),
                "IsVisibleForCustomer": int(article.get("IsVisibleForCustomer", 0)),
                "Subject": article.get("Subject", ""),
                "Body": article.get("Body", ""),
                "ContentType": article.get("ContentType", "text/plain; charset=utf8"),
                "CreateTime": self.tick(),
                "Attachment": [
                    {
                        "Filename": a["Filename"],
                        "ContentType": a["ContentType"],
                        "Content": a["Content"],
                        "FilesizeRaw": str(len(a["Content"]) * 3 // 4),
                    }
                    for a in attachments
                ],
            }
        )
        self.note(ticket, "AddNote", f"%%{article_id}")
        return article_id

    def note(self, ticket: dict[str, Any], kind: str, name: str) -> None:
        ticket["Changed"] = self.tick()
        ticket["History"].append(
            {
                "HistoryID": str(next(self.history)),
                "HistoryType": kind,
                "Name": name,
                "CreateTime": ticket["Changed"],
                "TicketID": ticket["TicketID"],
            }
        )

    # --- operations --------------------------------------------------------------------------

    async def session_create(self, request: Request) -> Response:
        data = await self.body(request)
        if not self.authorised(data):
            return error("SessionCreate.AuthFail", "Authorization failing!")
        session = f"s{len(self.sessions) + 1:08d}"
        self.sessions.add(session)
        return JSONResponse({"SessionID": session})

    async def ticket_create(self, request: Request) -> Response:
        if (down := self.unavailable()) is not None:
            return down
        data = await self.body(request)
        if not self.authorised(data):
            return error("TicketCreate.AuthFail", "Authorization failing!")
        ticket_in, article = data.get("Ticket") or {}, data.get("Article") or {}
        for name in ("Title", "Queue", "State", "Priority", "CustomerUser"):
            if not ticket_in.get(name):
                return error(
                    "TicketCreate.MissingParameter", f"Ticket->{name} parameter is missing!"
                )
        if ticket_in["Queue"] not in self.queues:
            return error("TicketCreate.InvalidParameter", "Ticket->Queue is invalid!")
        if ticket_in["State"] not in STATES:
            return error("TicketCreate.InvalidParameter", "Ticket->State is invalid!")
        if not article.get("Body") or not article.get("Subject"):
            return error("TicketCreate.MissingParameter", "Article->Body parameter is missing!")
        ticket_id = str(next(self.ids))
        ticket = {
            "TicketID": ticket_id,
            "TicketNumber": f"2026112210{int(ticket_id):06d}",
            "Title": ticket_in["Title"],
            "Queue": ticket_in["Queue"],
            "State": ticket_in["State"],
            "StateType": STATES[ticket_in["State"]],
            "Priority": ticket_in["Priority"],
            "CustomerUser": ticket_in["CustomerUser"],
            "Owner": USER,
            "Changed": self.tick(),
            "DynamicField": [
                {"Name": d["Name"], "Value": d["Value"]} for d in data.get("DynamicField") or []
            ],
            "Article": [],
            "History": [],
        }
        self.tickets[ticket_id] = ticket
        self.note(ticket, "NewTicket", f"%%{ticket['TicketNumber']}")
        article_id = self.add_article(ticket, article, data.get("Attachment") or [], USER)
        self.creates += 1
        if self.hang_after_create > 0:
            self.hang_after_create -= 1
            await asyncio.sleep(3)  # created, but the answer comes after the caller gave up
        return JSONResponse(
            {"TicketID": ticket_id, "TicketNumber": ticket["TicketNumber"], "ArticleID": article_id}
        )

    async def ticket_search(self, request: Request) -> Response:
        if (down := self.unavailable()) is not None:
            return down
        data = await self.body(request)
        if not self.authorised(data):
            return error("TicketSearch.AuthFail", "Authorization failing!")
        found = []
        for ticket in self.tickets.values():
            if "Title" in data and ticket["Title"] != data["Title"]:
                continue
            wanted = data.get("DynamicField_CaseflowRef")
            if wanted is not None:
                equals = json.loads(wanted).get("Equals")
                values = [d["Value"] for d in ticket["DynamicField"] if d["Name"] == "CaseflowRef"]
                if equals not in values:
                    continue
            found.append(ticket["TicketID"])
        return JSONResponse({"TicketID": found} if found else {})

    async def ticket_get(self, request: Request) -> Response:
        if (down := self.unavailable()) is not None:
            return down
        data = await self.body(request)
        if not self.authorised(data):
            return error("TicketGet.AuthFail", "Authorization failing!")
        ticket = self.tickets.get(request.path_params["id"])
        if ticket is None:
            return error("TicketGet.NotValidTicketID", "Could not get Ticket data!")
        shown = {k: v for k, v in ticket.items() if k not in ("Article", "History")}
        if data.get("AllArticles") == "1":
            with_files = data.get("Attachments") == "1"
            shown["Article"] = [
                a if with_files else {k: v for k, v in a.items() if k != "Attachment"}
                for a in ticket["Article"]
            ]
        if data.get("DynamicFields") != "1":
            shown.pop("DynamicField")
        return JSONResponse({"Ticket": [shown]})

    async def ticket_update(self, request: Request) -> Response:
        if (down := self.unavailable()) is not None:
            return down
        data = await self.body(request)
        if not self.authorised(data):
            return error("TicketUpdate.AuthFail", "Authorization failing!")
        ticket = self.tickets.get(request.path_params["id"])
        if ticket is None:
            return error("TicketUpdate.AccessDenied", "TicketID is invalid!")
        changes = data.get("Ticket") or {}
        if "State" in changes and changes["State"] not in STATES:
            return error("TicketUpdate.InvalidParameter", "Ticket->State is invalid!")
        if "Queue" in changes and changes["Queue"] not in self.queues:
            return error("TicketUpdate.InvalidParameter", "Ticket->Queue is invalid!")
        answer: dict[str, Any] = {
            "TicketID": ticket["TicketID"],
            "TicketNumber": ticket["TicketNumber"],
        }
        if "State" in changes:
            self.set_state(ticket, changes["State"])
        if "Queue" in changes:
            ticket["Queue"] = changes["Queue"]
            self.note(ticket, "Move", f"%%{changes['Queue']}")
        if data.get("Article"):
            answer["ArticleID"] = self.add_article(
                ticket, data["Article"], data.get("Attachment") or [], USER
            )
        return JSONResponse(answer)

    async def history_get(self, request: Request) -> Response:
        data = await self.body(request)
        if not self.authorised(data):
            return error("TicketHistoryGet.AuthFail", "Authorization failing!")
        ticket = self.tickets.get(request.path_params["id"])
        if ticket is None:
            return error("TicketHistoryGet.NotValidTicketID", "Could not get Ticket data!")
        return JSONResponse(
            {"TicketHistory": [{"TicketID": ticket["TicketID"], "History": ticket["History"]}]}
        )

    # --- an OTRS agent's own work, and the invoker's delivery of it ---------------------------

    def set_state(self, ticket: dict[str, Any], state: str) -> None:
        ticket["State"], ticket["StateType"] = state, STATES[state]
        self.note(ticket, "StateUpdate", f"%%{state}")

    def agent_state(self, ticket_id: str, state: str) -> dict[str, Any]:
        """The agent changes the state; the TicketStateUpdate delivery for it."""
        ticket = self.tickets[ticket_id]
        self.set_state(ticket, state)
        return self.delivery(ticket_id, "TicketStateUpdate")

    def agent_article(
        self, ticket_id: str, body: str, *, public: bool, files: list[dict[str, str]] | None = None
    ) -> dict[str, Any]:
        ticket = self.tickets[ticket_id]
        article = {"Subject": "Re", "Body": body, "IsVisibleForCustomer": 1 if public else 0}
        self.add_article(ticket, article, files or [], "Billing Agent <billing@otrs.example>")
        return self.delivery(ticket_id, "ArticleCreate")

    def delivery(self, ticket_id: str, event: str) -> dict[str, Any]:
        ticket = self.tickets[ticket_id]
        return {
            "Event": {"Event": event, "TicketID": ticket_id},
            "Ticket": {
                k: ticket[k]
                for k in (
                    "TicketID",
                    "TicketNumber",
                    "State",
                    "StateType",
                    "Queue",
                    "Changed",
                    "DynamicField",
                )
            },
        }
