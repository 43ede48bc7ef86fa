"""Who may see what, proven over the API: every role of the demo (and a teamless agent, a
supervisor of another zone, an integration) × every record kind × every endpoint that
reads or acts on it.

The expected answer comes from the policy's declared grants (`caseflow.access.GRANTS`),
read here in plain Python over the facts of each record — not from the SQL the routes run
— so a predicate that drifts from its declaration fails. The cases the security review
found are pinned by hand below the matrix.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from caseflow.access import DERIVED, GRANTS, Grant, Kind
from caseflow.models import Customer, Deal, DealTask, Request, User
from caseflow.people.store import upsert_user
from caseflow.requests.lifecycle import Role
from tests.test_api import assert_problem

API = "/api/v1"
VIEWERS = [
    "operator",
    "operator-nw",
    "agent2",
    "expert3",
    "lawyer",  # an agent without a team
    "supervisor",
    "supervisor-far",  # a supervisor of another zone
    "manager",
    "manager-b",
    "gateway",  # an integration account
    "admin",
]


@dataclass
class Viewer:
    username: str
    role: str
    team: str | None
    zone_teams: list[str]
    zone_regions: list[str]
    headers: dict[str, str]


@dataclass
class World:
    viewers: dict[str, Viewer]
    customers: dict[str, str] = field(default_factory=dict)  # label → id
    requests: dict[str, str] = field(default_factory=dict)
    deals: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # label → comment text
    files: dict[str, str] = field(default_factory=dict)  # request label → sha256
    numbers: dict[str, str] = field(default_factory=dict)  # request label → REQ-…
    facts: dict[tuple[Kind, str], dict[str, Any]] = field(default_factory=dict)


def unique_org(region: str, **extra: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    return {
        "kind": "organization",
        "name": f"ООО «Доступ {tag}»",
        "phones": [f"+7495{int(tag, 16) % 10**7:07d}"],
        "emails": [f"access-{tag}@example.org"],
        "region": region,
        "segment": "b2b_commercial",
        **extra,
    }


async def ok(answer: Awaitable[httpx.Response], status: int = 200) -> dict[str, Any]:
    got = await answer
    assert got.status_code == status, got.text
    return dict(got.json())


@pytest_asyncio.fixture(scope="module")
async def world(http, sessions) -> AsyncIterator[World]:
    async with sessions() as db:
        await upsert_user(
            db,
            username="supervisor-far",
            role=Role.SUPERVISOR,
            password="demo",
            zone_teams=["hotline-nw"],
            zone_regions=["RU-SPE"],
        )
        await upsert_user(db, username="gateway", role=Role.INTEGRATION, password="demo")
        await db.commit()
        viewers = {}
        for name in VIEWERS:
            user = await db.scalar(select(User).where(User.username == name))
            assert user is not None, name
            token = await ok(
                http.post(f"{API}/auth/token", data={"username": name, "password": "demo"})
            )
            viewers[name] = Viewer(
                username=name,
                role=user.role,
                team=user.team_code,
                zone_teams=list(user.zone_teams or []),
                zone_regions=list(user.zone_regions or []),
                headers={"Authorization": f"Bearer {token['access_token']}"},
            )
    w = World(viewers)
    h = {name: v.headers for name, v in viewers.items()}

    async def customer(label: str, by: str, body: dict[str, Any]) -> None:
        w.customers[label] = (
            await ok(http.post(f"{API}/customers", json=body, headers=h[by]), 201)
        )["id"]

    await customer("open", "admin", unique_org("RU-MOW"))
    await customer("nw", "admin", unique_org("RU-SPE"))
    await customer("of-manager", "manager", unique_org("RU-MOW"))
    await customer("of-manager-b", "manager-b", unique_org("RU-TVE"))
    await customer("accounted", "admin", unique_org("RU-TVE", account_manager="manager"))

    async def request(label: str, by: str, customer: str) -> None:
        body = {
            "customer_id": w.customers[customer],
            "channel": "phone",
            "topic": "consultation",
            "subject": f"Доступ: {label}",
            "description": "Проверка доступа",
        }
        answer = await ok(http.post(f"{API}/requests", json=body, headers=h[by]), 201)
        w.requests[label], w.numbers[label] = answer["id"], answer["number"]

    async def act(label: str, action: str, body: dict[str, Any]) -> None:
        url = f"{API}/requests/{w.requests[label]}/{action}"
        await ok(http.post(url, json=body, headers=h["admin"]))

    await request("hotline", "operator", "open")
    await request("north-west", "operator", "nw")
    await request("accounted", "admin", "accounted")
    await request("second-line", "admin", "of-manager-b")
    await act("second-line", "escalate", {"to_line": "L2", "reason": "нужна вторая линия"})
    # Routed to a person: no queue (as the account-manager rule or a reassignment leaves it).
    await request("to-a-person", "admin", "open")
    await act("to-a-person", "escalate", {"to_line": "L2", "reason": "нужна вторая линия"})
    await act("to-a-person", "reassign", {"assignee": "manager", "reason": "договор у него"})

    for label, by in (("of-manager", "manager"), ("of-manager-b", "manager-b")):
        body = {"customer_id": w.customers[label], "pipeline": "b2b", "title": f"Сделка {label}"}
        w.deals[label] = (await ok(http.post(f"{API}/deals", json=body, headers=h[by]), 201))["id"]

    async def note(label: str, by: str, customer: str, request: str | None = None) -> None:
        text = f"Заметка {label} {uuid.uuid4().hex[:6]}"
        body = {"comment": text, "request_id": w.requests[request] if request else None}
        url = f"{API}/customers/{w.customers[customer]}/interactions"
        await ok(http.post(url, json=body, headers=h[by]), 201)
        w.notes[label] = text

    await note("plain", "operator", "open")
    await note("on-a-person's-request", "admin", "open", "to-a-person")
    await note("of-manager", "manager", "of-manager")

    for label in ("hotline", "to-a-person"):
        url = f"{API}/requests/{w.requests[label]}/files"
        data = f"Акт {label} {uuid.uuid4().hex}".encode()
        kept = await ok(
            http.post(url, files={"file": ("act.txt", data, "text/plain")}, headers=h["admin"]), 201
        )
        w.files[label] = kept["sha256"]

    await ok(
        http.post(
            f"{API}/customers/{w.customers['open']}/representatives",
            json={"name": "Пётр Доверенный"},
            headers=h["admin"],
        ),
        201,
    )

    # The facts the policy speaks of, as the read model holds them now.
    async with sessions() as db:
        owners = {
            c.id: c
            for c in await db.scalars(select(Customer).where(Customer.id.in_(w.customers.values())))
        }
        for label, cid in w.customers.items():
            c = owners[cid]
            w.facts[(Kind.CUSTOMER, label)] = {
                "created_by": c.created_by,
                "managers": {c.personal_manager, c.account_manager} - {None},
            }
        for label, rid in w.requests.items():
            r = await db.get(Request, rid)
            assert r is not None
            c = owners[r.customer_id]
            w.facts[(Kind.REQUEST, label)] = {
                "line": r.line,
                "queue": r.queue,
                "people": {r.created_by, r.assignee} - {None},
                "region": c.region,
                "managers": {c.personal_manager, c.account_manager} - {None},
            }
        for label, did in w.deals.items():
            d = await db.get(Deal, did)
            assert d is not None
            team = await db.scalar(select(User.team_code).where(User.username == d.owner))
            assignees = set(
                await db.scalars(select(DealTask.assignee).where(DealTask.deal_id == did))
            )
            w.facts[(Kind.DEAL, label)] = {
                "owner": d.owner,
                "owner_team": team,
                "region": owners[d.customer_id].region,
                "assignees": assignees,
            }
    yield w
    # Open requests count against their assignees' capacity in the modules after this one.
    for rid in w.requests.values():
        url = f"{API}/requests/{rid}/cancel"
        await ok(http.post(url, json={"reason": "access tests are over"}, headers=h["admin"]))


# --- the declared policy, read in plain Python --------------------------------------------


def holds(kind: Kind, grant: Grant, v: Viewer, f: dict[str, Any]) -> bool:
    if grant == Grant.ALL:
        return True
    if kind == Kind.REQUEST:
        return {
            Grant.MINE: v.username in f["people"],
            Grant.HOTLINE: f["line"] == "L1",
            Grant.TEAM_QUEUE: v.team is not None and f["queue"] == v.team,
            Grant.ZONE_QUEUES: f["queue"] in v.zone_teams,
            Grant.ZONE_REGIONS: f["region"] in v.zone_regions,
            Grant.OWN_CUSTOMERS: v.username in f["managers"],
        }[grant]
    if kind == Kind.CUSTOMER:
        return {
            Grant.OWNED: v.username in f["managers"],
            Grant.CREATED: f["created_by"] == v.username,
        }[grant]
    if kind == Kind.DEAL:
        return {
            Grant.OWNED: f["owner"] == v.username,
            Grant.ZONE_OWNERS: f["owner_team"] in v.zone_teams,
            Grant.ZONE_REGIONS: f["region"] in v.zone_regions,
            Grant.TASK_ASSIGNEE: v.username in f["assignees"],
        }[grant]
    raise AssertionError(f"{kind} has no grants of its own")


def sees(w: World, kind: Kind, viewer: str, label: str) -> bool:
    v = w.viewers[viewer]
    declared = GRANTS[kind].get(Role(v.role), frozenset())
    return any(holds(kind, g, v, w.facts[(kind, label)]) for g in declared)


def sees_person(w: World, viewer: str, username: str) -> bool:
    v = w.viewers[viewer]
    declared = GRANTS[Kind.PERSON].get(Role(v.role), frozenset())
    team = w.viewers[username].team
    return Grant.ALL in declared or (Grant.ZONE_TEAMS in declared and team in v.zone_teams)


# --- endpoints: what one viewer gets for one record, and what the policy says -------------

Probe = Callable[[httpx.AsyncClient, World, str, str], Awaitable[Any]]
Expect = Callable[[httpx.AsyncClient, World, str, str], Awaitable[Any]]

REQUEST_CUSTOMER = {
    "hotline": "open",
    "to-a-person": "open",
    "north-west": "nw",
    "accounted": "accounted",
    "second-line": "of-manager-b",
}
DEAL_CUSTOMER = {"of-manager": "of-manager", "of-manager-b": "of-manager-b"}
NOTE_CUSTOMER = {"plain": "open", "on-a-person's-request": "open", "of-manager": "of-manager"}
NOTE_REQUEST = {"on-a-person's-request": "to-a-person"}
PEOPLE = ["agent2", "operator-nw", "manager"]
OVERSEERS = {Role.SUPERVISOR, Role.ADMIN}


def ids_of(w: World, kind: Kind) -> dict[str, str]:
    return {Kind.REQUEST: w.requests, Kind.CUSTOMER: w.customers, Kind.DEAL: w.deals}[kind]


def detail(url: str, kind: Kind) -> tuple[Probe, Expect]:
    """A read of one record (or of what hangs on it): 200 if visible, else 404."""

    async def probe(http, w, viewer, label):
        got = await http.get(
            url.format(id=ids_of(w, kind)[label]), headers=w.viewers[viewer].headers
        )
        if got.status_code == 404:
            assert_problem(got, 404, "not_found")
        return got.status_code

    async def expect(http, w, viewer, label):
        return 200 if sees(w, kind, viewer, label) else 404

    return probe, expect


async def all_pages(http, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        sep = "&" if "?" in url else "?"
        got = await http.get(url + (f"{sep}cursor={cursor}" if cursor else ""), headers=headers)
        assert got.status_code == 200, got.text
        items += got.json()["items"]
        cursor = got.json()["next_cursor"]
        if cursor is None:
            return items


def listed(url: Callable[[World, str], str], kind: Kind, key: str = "id") -> tuple[Probe, Expect]:
    """A list that could hold the record: it is there if and only if it is visible."""

    async def probe(http, w, viewer, label):
        items = await all_pages(http, url(w, label), w.viewers[viewer].headers)
        return ids_of(w, kind)[label] in {item[key] for item in items}

    async def expect(http, w, viewer, label):
        return sees(w, kind, viewer, label)

    return probe, expect


async def comment_probe(http, w, viewer, label):
    url = f"{API}/requests/{w.requests[label]}/comment"
    return (
        await http.post(url, json={"text": "доступ"}, headers=w.viewers[viewer].headers)
    ).status_code


async def comment_expect(http, w, viewer, label):
    """Invisible: 404. Visible: 200 if the request offers the viewer `comment`, else 403."""
    if not sees(w, Kind.REQUEST, viewer, label):
        return 404
    view = await http.get(f"{API}/requests/{w.requests[label]}", headers=w.viewers[viewer].headers)
    return 200 if "comment" in view.json()["allowed_actions"] else 403


async def upload_probe(http, w, viewer, label):
    url = f"{API}/requests/{w.requests[label]}/files"
    data = f"{viewer} {uuid.uuid4().hex}".encode()
    files = {"file": ("x.txt", data, "text/plain")}
    return (await http.post(url, files=files, headers=w.viewers[viewer].headers)).status_code


async def upload_expect(http, w, viewer, label):
    return 201 if sees(w, Kind.REQUEST, viewer, label) else 404


async def download_probe(http, w, viewer, label):
    url = f"{API}/requests/{w.requests[label]}/files/{w.files[label]}"
    return (await http.get(url, headers=w.viewers[viewer].headers)).status_code


async def timeline(http, w: World, viewer: str, customer: str) -> list[dict[str, Any]] | None:
    url = f"{API}/customers/{w.customers[customer]}/interactions?limit=200"
    got = await http.get(url, headers=w.viewers[viewer].headers)
    return None if got.status_code == 404 else list(got.json()["items"])


def in_timeline(kind: Kind, customer_of: dict[str, str]) -> tuple[Probe, Expect]:
    """Whether the record shows in its customer's timeline (for a viewer who may see that
    customer; to others the whole timeline is not found)."""

    async def probe(http, w, viewer, label):
        items = await timeline(http, w, viewer, customer_of[label])
        if items is None:
            return "no timeline"
        if kind == Kind.REQUEST:
            return any(i["number"] == w.numbers[label] for i in items)
        if kind == Kind.DEAL:
            return any(i["link"] == f"/api/v1/deals/{w.deals[label]}" for i in items)
        return any(i["comment"] == w.notes[label] for i in items)

    async def expect(http, w, viewer, label):
        if not sees(w, Kind.CUSTOMER, viewer, customer_of[label]):
            return "no timeline"
        if kind == Kind.NOTE:
            request = NOTE_REQUEST.get(label)
            return request is None or sees(w, Kind.REQUEST, viewer, request)
        return sees(w, kind, viewer, label)

    return probe, expect


async def person_listed(http, w, viewer, username):
    got = await http.get(f"{API}/admin/users?limit=200", headers=w.viewers[viewer].headers)
    if got.status_code != 200:
        return got.status_code
    return username in {
        p["username"]
        for p in await all_pages(http, f"{API}/admin/users?limit=200", w.viewers[viewer].headers)
    }


async def person_patch(http, w, viewer, username):
    url = f"{API}/admin/users/{username}"
    return (await http.patch(url, json={}, headers=w.viewers[viewer].headers)).status_code


async def customer_patch(http, w, viewer, label):
    """A statement that changes nothing: allowed (200) exactly where the customer is seen."""
    url = f"{API}/customers/{w.customers[label]}"
    body = {"address_form": "formal"}
    return (await http.patch(url, json=body, headers=w.viewers[viewer].headers)).status_code


async def absence_post(http, w, viewer, username):
    url = f"{API}/admin/users/{username}/absences"
    body = {"starts_at": "2031-01-05T09:00:00+03:00", "ends_at": "2031-01-06T09:00:00+03:00"}
    return (await http.post(url, json=body, headers=w.viewers[viewer].headers)).status_code


def for_people(seen: Any, unseen: Any) -> Expect:
    async def expect(http, w, viewer, username):
        if Role(w.viewers[viewer].role) not in OVERSEERS:
            return 403
        return seen if sees_person(w, viewer, username) else unseen

    return expect


REQUEST_LABELS = list(REQUEST_CUSTOMER)
CUSTOMER_LABELS = ["open", "nw", "of-manager", "of-manager-b", "accounted"]
DEAL_LABELS = list(DEAL_CUSTOMER)
FILED = ["hotline", "to-a-person"]


def by_customer(w: World, label: str) -> str:
    return f"{API}/requests?customer_id={w.customers[REQUEST_CUSTOMER[label]]}&limit=200"


def tasks_of_owner(w: World, label: str) -> str:
    return f"{API}/tasks?assignee={w.facts[(Kind.DEAL, label)]['owner']}&limit=200"


MATRIX: dict[str, tuple[Kind, list[str], Probe, Expect]] = {
    "GET /requests/{id}": (
        Kind.REQUEST,
        REQUEST_LABELS,
        *detail(API + "/requests/{id}", Kind.REQUEST),
    ),
    "GET /requests/{id}/events": (
        Kind.REQUEST,
        REQUEST_LABELS,
        *detail(API + "/requests/{id}/events", Kind.REQUEST),
    ),
    "GET /requests/{id}/notifications": (
        Kind.NOTIFICATION,
        REQUEST_LABELS,
        *detail(API + "/requests/{id}/notifications", Kind.REQUEST),
    ),
    "GET /requests/{id}/files": (
        Kind.FILE,
        REQUEST_LABELS,
        *detail(API + "/requests/{id}/files", Kind.REQUEST),
    ),
    "GET /requests/{id}/files/{sha256}": (
        Kind.FILE,
        FILED,
        download_probe,
        detail(API + "/requests/{id}", Kind.REQUEST)[1],
    ),
    "POST /requests/{id}/files": (Kind.FILE, REQUEST_LABELS, upload_probe, upload_expect),
    "POST /requests/{id}/comment": (Kind.REQUEST, REQUEST_LABELS, comment_probe, comment_expect),
    "GET /requests?customer_id=": (
        Kind.REQUEST,
        REQUEST_LABELS,
        *listed(by_customer, Kind.REQUEST),
    ),
    "GET /requests?assignee=": (
        Kind.REQUEST,
        ["to-a-person"],
        *listed(lambda w, label: f"{API}/requests?assignee=manager&limit=200", Kind.REQUEST),
    ),
    "GET /customers/{id}/interactions: requests": (
        Kind.REQUEST,
        REQUEST_LABELS,
        *in_timeline(Kind.REQUEST, REQUEST_CUSTOMER),
    ),
    "GET /customers/{id}": (
        Kind.CUSTOMER,
        CUSTOMER_LABELS,
        *detail(API + "/customers/{id}", Kind.CUSTOMER),
    ),
    "GET /customers/{id}?explain=true": (
        Kind.CUSTOMER,
        CUSTOMER_LABELS,
        *detail(API + "/customers/{id}?explain=true", Kind.CUSTOMER),
    ),
    "GET /customers/{id}/history": (
        Kind.CUSTOMER,
        CUSTOMER_LABELS,
        *detail(API + "/customers/{id}/history", Kind.CUSTOMER),
    ),
    **{
        f"GET /customers/{{id}}/{part}": (
            Kind.CUSTOMER,
            CUSTOMER_LABELS,
            *detail(API + "/customers/{id}/" + part, Kind.CUSTOMER),
        )
        for part in ("duplicates", "consents", "products", "offers")
    },
    "PATCH /customers/{id}": (
        Kind.CUSTOMER,
        CUSTOMER_LABELS,
        customer_patch,
        detail(API + "/customers/{id}", Kind.CUSTOMER)[1],
    ),
    "GET /customers/{id}/interactions": (
        Kind.CUSTOMER,
        CUSTOMER_LABELS,
        *detail(API + "/customers/{id}/interactions", Kind.CUSTOMER),
    ),
    "GET /customers/{id}/representatives": (
        Kind.REPRESENTATIVE,
        CUSTOMER_LABELS,
        *detail(API + "/customers/{id}/representatives", Kind.CUSTOMER),
    ),
    "GET /customers": (
        Kind.CUSTOMER,
        CUSTOMER_LABELS,
        *listed(lambda w, label: f"{API}/customers?limit=200", Kind.CUSTOMER),
    ),
    "GET /customers/{id}/interactions: notes": (
        Kind.NOTE,
        list(NOTE_CUSTOMER),
        *in_timeline(Kind.NOTE, NOTE_CUSTOMER),
    ),
    "GET /deals/{id}": (Kind.DEAL, DEAL_LABELS, *detail(API + "/deals/{id}", Kind.DEAL)),
    "GET /deals": (
        Kind.DEAL,
        DEAL_LABELS,
        *listed(lambda w, label: f"{API}/deals?limit=200", Kind.DEAL),
    ),
    "GET /tasks?assignee=<owner>": (
        Kind.TASK,
        DEAL_LABELS,
        *listed(tasks_of_owner, Kind.DEAL, key="deal_id"),
    ),
    "GET /customers/{id}/interactions: deals": (
        Kind.DEAL,
        DEAL_LABELS,
        *in_timeline(Kind.DEAL, DEAL_CUSTOMER),
    ),
    "GET /admin/users": (Kind.PERSON, PEOPLE, person_listed, for_people(True, False)),
    "PATCH /admin/users/{username}": (Kind.PERSON, PEOPLE, person_patch, for_people(200, 404)),
    "POST /admin/users/{username}/absences": (
        Kind.ABSENCE,
        PEOPLE,
        absence_post,
        for_people(201, 404),
    ),
}
CHECKED: list[int] = []


@pytest.mark.parametrize("endpoint", list(MATRIX))
async def test_each_role_sees_exactly_what_the_policy_grants(http, world, endpoint) -> None:
    kind, labels, probe, expect = MATRIX[endpoint]
    wrong = []
    for viewer in VIEWERS:
        for label in labels:
            got = await probe(http, world, viewer, label)
            wanted = await expect(http, world, viewer, label)
            if got != wanted:
                wrong.append(f"{viewer} × {kind} {label}: got {got}, the policy says {wanted}")
            CHECKED.append(1)
    assert not wrong, "\n".join(wrong)


def test_the_matrix_covers_every_kind_and_role() -> None:
    assert {kind for kind, *_ in MATRIX.values()} == set(Kind)
    assert set(DERIVED) | set(GRANTS) == set(Kind)
    users = {Role.OPERATOR, Role.AGENT, Role.SUPERVISOR, Role.MANAGER, Role.INTEGRATION, Role.ADMIN}
    assert users <= {role for table in GRANTS.values() for role in table}
    print(f"access matrix: {len(VIEWERS)} viewers, {len(MATRIX)} endpoints, {len(CHECKED)} checks")


# --- the cases the security review found, pinned by hand -----------------------------------


async def test_an_agent_without_a_team_sees_no_queue_less_request(http, world) -> None:
    lawyer = world.viewers["lawyer"].headers
    rid = world.requests["to-a-person"]
    for url in (f"/requests/{rid}", f"/requests/{rid}/events", f"/requests/{rid}/notifications"):
        assert_problem(await http.get(API + url, headers=lawyer), 404, "not_found")
    upload = {"file": ("x.txt", b"x", "text/plain")}
    got = await http.post(f"{API}/requests/{rid}/files", files=upload, headers=lawyer)
    assert_problem(got, 404)
    listed = await all_pages(http, f"{API}/requests?assignee=manager", lawyer)
    assert listed == []


async def test_a_manager_cannot_act_on_a_customer_they_cannot_see(http, world, sessions) -> None:
    h = {name: v.headers for name, v in world.viewers.items()}
    theirs, unowned = world.customers["of-manager"], world.customers["open"]
    missing = str(uuid.uuid4())

    async def deal(customer: str, by: str) -> httpx.Response:
        body = {"customer_id": customer, "pipeline": "b2b", "title": "Перехват"}
        return await http.post(f"{API}/deals", json=body, headers=h[by])

    nobody = assert_problem(await deal(missing, "manager-b"), 422)
    for customer, by in ((theirs, "manager-b"), (unowned, "manager")):
        # Exactly the answer for a customer that does not exist: no takeover, no hint.
        assert assert_problem(await deal(customer, by), 422)["errors"] == nobody["errors"]
    async with sessions() as db:
        open_customer = await db.get(Customer, unowned)
        assert open_customer is not None and open_customer.account_manager is None

    intake = {"channel": "phone", "topic": "consultation", "subject": "x", "description": "x"}
    ghost = await http.post(
        f"{API}/requests", json={**intake, "customer_id": missing}, headers=h["manager"]
    )
    ghost_body = assert_problem(ghost, 422)
    hidden = await http.post(
        f"{API}/requests", json={**intake, "customer_id": unowned}, headers=h["manager"]
    )
    assert assert_problem(hidden, 422)["errors"] == ghost_body["errors"]
    phone = (await ok(http.get(f"{API}/customers/{unowned}", headers=h["admin"])))["phones"][0]
    by_phone = await http.post(
        f"{API}/requests", json={**intake, "customer": {"phone": phone}}, headers=h["manager"]
    )
    assert "no customer matches" in assert_problem(by_phone, 422)["detail"]


async def test_a_duplicate_names_the_existing_customer_only_to_who_may_see_it(http, world) -> None:
    h = {name: v.headers for name, v in world.viewers.items()}
    existing = await ok(
        http.get(f"{API}/customers/{world.customers['of-manager']}", headers=h["manager"])
    )
    again = unique_org("RU-MOW", phones=existing["phones"])
    hidden = assert_problem(
        await http.post(f"{API}/customers", json=again, headers=h["manager-b"]),
        409,
        "duplicate_customer",
    )
    assert "duplicate_of" not in hidden and existing["id"] not in str(hidden)
    assert "manager" not in hidden["detail"]
    shown = assert_problem(
        await http.post(f"{API}/customers", json=again, headers=h["operator"]),
        409,
        "duplicate_customer",
    )
    assert shown["duplicate_of"] == existing["id"] and shown["matched_on"] == "phone"


async def test_the_timeline_shows_only_what_the_caller_may_see(http, world) -> None:
    operator = world.viewers["operator"].headers
    items = await timeline(http, world, "operator", "open")
    assert items is not None
    numbers = {i["number"] for i in items}
    assert world.numbers["hotline"] in numbers and world.numbers["to-a-person"] not in numbers
    assert world.notes["plain"] in {i["comment"] for i in items}
    assert world.notes["on-a-person's-request"] not in {i["comment"] for i in items}
    # Nor may a note be linked to a request the caller cannot see.
    url = f"{API}/customers/{world.customers['open']}/interactions"
    hidden = await http.post(
        url, json={"comment": "x", "request_id": world.requests["to-a-person"]}, headers=operator
    )
    elsewhere = await http.post(
        url, json={"comment": "x", "request_id": world.requests["north-west"]}, headers=operator
    )
    assert assert_problem(hidden, 422)["errors"] == assert_problem(elsewhere, 422)["errors"]


async def test_a_changed_zone_shows_at_once(http, world, sessions) -> None:
    """A supervisor given another team's queue sees its requests on the next call, and stops
    seeing them when it is taken away (the policy's predicates are kept per zone as it is)."""
    far = world.viewers["supervisor-far"]
    url = f"{API}/requests/{world.requests['hotline']}"
    listed = {"number": world.numbers["hotline"]}

    async def zone(teams: list[str]) -> None:
        async with sessions() as db:
            await upsert_user(
                db,
                username="supervisor-far",
                role=Role.SUPERVISOR,
                zone_teams=teams,
                zone_regions=far.zone_regions,
            )
            await db.commit()

    async def seen() -> tuple[int, int]:
        one = await http.get(url, headers=far.headers)
        found = await http.get(f"{API}/requests", params=listed, headers=far.headers)
        return one.status_code, len(found.json()["items"])

    assert await seen() == (404, 0)
    try:
        await zone([*far.zone_teams, "hotline"])
        assert await seen() == (200, 1)
    finally:
        await zone(far.zone_teams)
    assert await seen() == (404, 0)
