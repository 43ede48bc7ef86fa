"""The console in a real browser (Debian's Chromium driven by Playwright) against the real
stack: Temporal dev server, worker and the app on PostgreSQL, served by uvicorn.

What people notice: signing in from the keyboard, a case that changes in another person's
browser without a reload, a stale action refused with what changed, a queue that shows a
new request by itself, every control labelled."""

from __future__ import annotations

import asyncio
import os
import random
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
import uvicorn
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.conftest import free_port
from tests.test_deals_api import company_of, new_deal
from tests.test_supervisor import new_request

CHROMIUM = "/usr/bin/chromium"
# As root, on a machine with a closed network: no sandbox, no background connections.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ERRORS: dict[Page, list[str]] = {}
# A refusal the page shows in place (a stale action, a missing field) is an answer, not a flaw.
ANSWERED_PROBLEM = re.compile(r"status of (409|422|403|429) ")
LIVE = 10_000  # ms a live change may take to show (the read model is looked at each second)


@pytest_asyncio.fixture(scope="session")
async def console_url(caseflow_app) -> AsyncIterator[str]:
    port = free_port()
    config = uvicorn.Config(
        caseflow_app,
        host="127.0.0.1",
        port=port,
        lifespan="off",  # the app is started already (the fixture's lifespan)
        log_level="warning",
        timeout_graceful_shutdown=2,  # live streams are cut, not waited for
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(400):  # up to 20 s
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest_asyncio.fixture
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        await browser.close()


def shots(tmp_path: Path) -> Path:
    """Where screenshots go: CASEFLOW_SCREENSHOTS (to pick some for docs/), else tmp."""
    where = Path(os.environ.get("CASEFLOW_SCREENSHOTS") or tmp_path)
    where.mkdir(parents=True, exist_ok=True)
    return where


async def signed_in(browser: Browser, url: str, username: str) -> Page:
    """A browser of this person's, signed in from the keyboard alone."""
    context = await browser.new_context(base_url=url, viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    ERRORS[page] = errors  # what the browser refused or failed at (a CSP violation, a bug)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto("/queue")
    await expect(page).to_have_url(f"{url}/login?next=/queue")
    await page.keyboard.type(username)  # the username field has the focus
    await page.keyboard.press("Tab")
    await page.keyboard.type("demo")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{url}/queue")
    if await page.locator("html").get_attribute("lang") != "en":  # the tests read English
        await page.locator("#language").select_option("en")
        await page.get_by_role("button", name="Сменить").click()
        await expect(page.locator("html")).to_have_attribute("lang", "en")
    return page


async def flaws(page: Page) -> list[str]:
    """Controls a screen reader could not name, and what the browser refused or failed at
    on this page so far (a script the Content-Security-Policy blocked, an error)."""
    found: list[str] = await page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea, button')]
            .filter(el => el.type !== 'hidden')
            .filter(el => el.tagName === 'BUTTON' ? !el.textContent.trim()
                         : !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
            .map(el => el.outerHTML.slice(0, 120))"""
    )
    refused = [e for e in ERRORS.get(page, []) if not ANSWERED_PROBLEM.search(e)]
    return found + refused


async def test_a_case_moves_in_one_browser_and_shows_in_another(
    console_url, chromium, http, tokens, tmp_path
) -> None:
    created = await new_request(http, tokens["operator"])
    holder = created["assignee"]
    agent = await signed_in(chromium, console_url, holder)
    supervisor = await signed_in(chromium, console_url, "supervisor")

    await supervisor.goto(f"/cases/{created['id']}")
    await expect(supervisor.locator("#state")).to_have_text("assigned")
    await agent.goto(f"/cases/{created['id']}")
    assert await flaws(agent) == []
    # Each sees that the other has the case open.
    await expect(agent.locator("#presence")).to_contain_text("Светлана Старшая", timeout=LIVE)
    holder_name = "Ольга Операторова" if holder == "operator" else "Борис Линейный"
    await expect(supervisor.locator("#presence")).to_contain_text(holder_name, timeout=LIVE)
    await agent.screenshot(path=shots(tmp_path) / "case.png", full_page=True)

    async with agent.expect_response(lambda r: r.url.endswith("/actions/start")):
        await agent.locator('button[data-action="start"]').click()
    await expect(agent.locator("#state")).to_have_text("in progress")
    # The supervisor's page changes by itself, and says so.
    await expect(supervisor.locator("#state")).to_have_text("in progress", timeout=LIVE)
    await expect(supervisor.get_by_text("changed since you opened it")).to_be_visible()

    # Their action forms are of the old version: a comment is refused, with what changed.
    await supervisor.locator("summary", has_text="comment").click()
    await supervisor.locator("#comment-text").fill("Checked with the bank")
    await supervisor.locator("#comment-text").press("Tab")
    await supervisor.get_by_role("button", name="comment").click()
    problem = supervisor.locator("#problem")
    await expect(problem).to_contain_text("changed since you loaded it")
    await expect(problem).to_contain_text(f"{holder}: start")
    await supervisor.screenshot(path=shots(tmp_path) / "stale.png", full_page=True)
    # The page now holds the case as it is: the same comment goes through.
    await supervisor.locator("summary", has_text="comment").click()
    await supervisor.locator("#comment-text").fill("Checked with the bank")
    await supervisor.get_by_role("button", name="comment").click()
    await expect(supervisor.locator("#problem")).to_have_count(0)
    await expect(agent.locator("#timeline")).to_contain_text("comment · supervisor", timeout=LIVE)

    # The agent escalates to the second line; the supervisor sees the line change live.
    await agent.reload()
    await agent.locator("summary", has_text="escalate").click()
    await agent.locator("#escalate-to_line").select_option("L2")
    await agent.locator("#escalate-reason").fill("needs the card department")
    await agent.get_by_role("button", name="escalate").click()
    await expect(supervisor.locator("#line")).to_have_text("L2", timeout=LIVE)
    # An admin looks in and closes the page again: the supervisor sees them come and go.
    # (The agent may no longer see the case: it left their line.)
    admin = await signed_in(chromium, console_url, "admin")
    await admin.goto(f"/cases/{created['id']}")
    await expect(supervisor.locator("#presence")).to_contain_text("Администратор", timeout=LIVE)
    await admin.context.close()
    await expect(supervisor.locator("#presence")).not_to_contain_text("Администратор", timeout=LIVE)


async def test_a_queue_shows_a_new_request_by_itself(
    console_url, chromium, http, tokens, tmp_path
) -> None:
    supervisor = await signed_in(chromium, console_url, "supervisor")
    await supervisor.goto("/queue?view=open")
    assert await flaws(supervisor) == []
    created = await new_request(http, tokens["operator"])
    row = supervisor.locator(f'tr[data-case="{created["number"]}"]')
    await expect(row).to_be_visible(timeout=LIVE)
    # Its SLA countdown ticks in the browser.
    countdown = row.locator("time.due")
    await expect(countdown).to_have_attribute("data-left", re.compile(r"^-?\d+$"))
    await expect(countdown).to_contain_text(" min ")
    first = await countdown.get_attribute("data-left")
    assert first is not None
    await expect(countdown).not_to_have_attribute("data-left", first, timeout=3000)
    await supervisor.screenshot(path=shots(tmp_path) / "queue.png", full_page=True)


async def test_a_supervisor_sees_a_breach_come_and_reassigns_it(
    console_url, chromium, http, tokens, tmp_path
) -> None:
    phone = f"+7 916 {random.randrange(10**7):07d}"
    customer = await http.post(
        "/api/v1/customers",
        json={"kind": "person", "name": "Секунда Тестова", "region": "RU-TST",
              "segment": "b2c", "phones": [phone]},
        headers=tokens["operator"],
    )  # fmt: skip
    assert customer.status_code == 201, customer.text
    supervisor = await signed_in(chromium, console_url, "supervisor")
    await supervisor.goto("/floor")
    assert await flaws(supervisor) == []
    request = await http.post(
        "/api/v1/requests",
        json={"customer_id": customer.json()["id"], "channel": "phone",
              "topic": "consultation", "subject": "Срочно", "description": "Ждёт ответа"},
        headers=tokens["operator"],
    )  # fmt: skip
    assert request.status_code == 201, request.text
    created = request.json()
    # Its first response is due in 4 s: the breach shows on the floor by itself.
    breached = supervisor.locator(
        f'table[data-list="breached"] tr[data-case="{created["number"]}"]'
    )
    await expect(breached).to_be_visible(timeout=LIVE + 4_000)
    await supervisor.screenshot(path=shots(tmp_path) / "floor.png", full_page=True)

    other = "operator-b" if created["assignee"] != "operator-b" else "operator"
    await breached.get_by_role("checkbox").check()
    await supervisor.locator("#bulk-assignee").select_option(other)
    await supervisor.locator("#bulk-reason").fill("first answer is late")
    await supervisor.get_by_role("button", name="Reassign").click()
    await expect(supervisor.locator("#results")).to_contain_text(f"{created['number']} → hotline")
    await expect(supervisor.locator("#results")).to_contain_text(other)
    now = await http.get(f"/api/v1/requests/{created['id']}", headers=tokens["supervisor"])
    assert now.json()["assignee"] == other
    # Today's service levels, drawn on the server: the breach counts against L1, then hotline.
    await supervisor.get_by_role("button", name="Show").click()
    met = supervisor.locator('figure[data-chart="met"] svg')
    await expect(met).to_contain_text("L1")
    await expect(met).to_contain_text("% of")
    await supervisor.locator("#group-by").select_option("queue")
    await supervisor.get_by_role("button", name="Show").click()
    await expect(supervisor.locator('figure[data-chart="met"] svg')).to_contain_text("hotline")
    await supervisor.screenshot(path=shots(tmp_path) / "floor-charts.png", full_page=True)
    assert await flaws(supervisor) == []


async def test_a_refused_stage_move_lists_what_is_missing_then_succeeds(
    console_url, chromium, http, tokens, tmp_path
) -> None:
    customer = await company_of(http, tokens)
    created = await new_deal(http, tokens, customer)
    assert created.status_code == 201, created.text
    deal = created.json()
    manager = await signed_in(chromium, console_url, "manager")
    await manager.goto("/deals/board?pipeline=b2b")
    assert await flaws(manager) == []
    card = manager.locator(f"#deal-{deal['id']}")
    await expect(card).to_be_visible()
    assert await card.evaluate("el => el.closest('[data-stage]').dataset.stage") == "qualification"

    await card.get_by_role("button", name="Advance →").click()
    card = manager.locator(f"#deal-{deal['id']}")
    missing = card.locator(".missing")
    await expect(missing).to_contain_text("budget")
    await expect(missing).to_contain_text("decision_maker")
    await expect(missing).to_contain_text(deal["tasks"][0]["title"])
    await manager.screenshot(path=shots(tmp_path) / "deals.png", full_page=True)

    # The task is on the manager's list, due today.
    await manager.goto("/tasks")
    assert await flaws(manager) == []
    listed = manager.locator(f'tr[data-task="{deal["id"]}:{deal["tasks"][0]["id"]}"]')
    await expect(listed).to_contain_text(deal["tasks"][0]["title"])
    await manager.goto("/deals/board?pipeline=b2b")
    await card.get_by_role("button", name="Advance →").click()

    # Filled in and done where the refusal lists them, the move goes through.
    await card.get_by_label("budget").fill("1000000")
    await card.get_by_label("decision_maker").fill("CEO")
    await card.get_by_role("button", name="Save fields").click()
    card = manager.locator(f"#deal-{deal['id']}")
    await expect(card.locator(".missing")).to_have_count(0)  # saved: the board came back
    await card.get_by_role("button", name="Advance →").click()
    card = manager.locator(f"#deal-{deal['id']}")
    await expect(card.locator(".missing")).to_contain_text(deal["tasks"][0]["title"])
    await expect(card.locator(".missing")).not_to_contain_text("budget")
    await expect(card.locator(f'button[data-task="{deal["tasks"][0]["id"]}"]')).to_be_visible()
    # Done from the task list this time, with its result.
    await manager.goto("/tasks")
    await listed.get_by_placeholder("result (optional)").fill("Созвонились, интерес есть")
    await listed.get_by_role("button", name="Complete").click()
    await expect(listed).to_have_count(0)
    await manager.goto("/deals/board?pipeline=b2b")
    card = manager.locator(f"#deal-{deal['id']}")
    await card.get_by_role("button", name="Advance →").click()
    moved = manager.locator(f'[data-stage="needs_analysis"] #deal-{deal["id"]}')
    await expect(moved).to_be_visible()
    now = await http.get(f"/api/v1/deals/{deal['id']}", headers=tokens["manager"])
    assert now.json()["stage"] == "needs_analysis"
    assert now.json()["fields"]["budget"] == 1000000
    done = next(t for t in now.json()["tasks"] if t["id"] == deal["tasks"][0]["id"])
    assert done["status"] == "done" and done["result"] == "Созвонились, интерес есть"


async def test_an_operator_finds_the_caller_and_registers_a_request_once(
    console_url, chromium, http, tokens, tmp_path
) -> None:
    operator = await signed_in(chromium, console_url, "operator")
    await operator.goto("/intake")
    # +7 495 123-45-67 on file, said on the phone as 8 (495) 123 45 67.
    await operator.get_by_label("INN, OGRN, phone").fill("8 (495) 123 45 67")
    found = operator.locator("#found a", has_text="Ромашка")
    await expect(found).to_be_visible()
    await found.click()
    await expect(operator.locator("#card-title")).to_have_text("ООО «Ромашка»")
    assert await flaws(operator) == []
    # The card names who may call for the company, and with what authority.
    await expect(operator.locator(".representatives")).to_contain_text("Мария Ивановна Соколова")
    await expect(operator.locator("ol.interactions")).to_be_visible()  # fetched after the card
    caller = "Мария Ивановна Соколова, главный бухгалтер"
    await operator.get_by_label("Calling").select_option(label=caller)
    subject = f"Вопрос по тарифу {random.randrange(10**6)}"
    await operator.get_by_label("Subject").fill(subject)
    await operator.get_by_label("Description").fill("Клиент спрашивает о тарифах")
    await operator.get_by_role("button", name="Register").dblclick()  # an impatient double click
    registered = operator.locator("#registered")
    await expect(registered).to_contain_text("Registered REQ-")
    assignee = (await operator.locator("#registered-assignee").inner_text()).strip()
    assert assignee and assignee != "nobody yet"
    await operator.screenshot(path=shots(tmp_path) / "intake.png", full_page=True)
    listed = await http.get("/api/v1/requests", params={"q": subject}, headers=tokens["supervisor"])
    mine = [r for r in listed.json()["items"] if r["subject"] == subject]
    assert len(mine) == 1 and mine[0]["assignee"] == assignee
    # The caller was the representative: the customer's card now lists the request.
    await expect(operator.locator(".customer-card")).to_contain_text(subject)


async def test_an_unknown_caller_becomes_a_customer_in_place_and_never_twice(
    console_url, chromium, tmp_path
) -> None:
    operator = await signed_in(chromium, console_url, "operator")
    await operator.goto("/intake")
    local_number = f"8 916 {random.randrange(10**7):07d}"
    await operator.get_by_label("INN, OGRN, phone").fill(local_number)
    await expect(operator.locator("#found")).to_contain_text("Nobody found")
    await operator.get_by_label("Name", exact=True).fill("Пётр Новенький")
    await operator.get_by_label("Phone", exact=True).fill(local_number)
    await operator.get_by_role("button", name="Create the customer").click()
    await expect(operator.locator("#card-title")).to_have_text("Пётр Новенький")
    # The same phone again, written another way: the existing customer is named instead.
    await operator.goto("/intake")
    await operator.get_by_label("INN, OGRN, phone").fill("nobody with this name at all")
    await expect(operator.locator("#found")).to_contain_text("Nobody found")
    await operator.get_by_label("Name", exact=True).fill("Пётр Другой")
    await operator.get_by_label("Phone", exact=True).fill("+7" + local_number[1:])
    await operator.get_by_role("button", name="Create the customer").click()
    refused = operator.locator("#new-customer .problem")
    await expect(refused).to_be_visible()
    await refused.get_by_role("link", name="Take the existing customer").click()
    await expect(operator.locator("#card-title")).to_have_text("Пётр Новенький")


async def test_a_case_is_worked_from_the_keyboard(
    console_url, chromium, http, tokens, tmp_path
) -> None:
    created = await new_request(http, tokens["operator"])
    agent = await signed_in(chromium, console_url, created["assignee"])
    await agent.goto(f"/cases/{created['id']}")
    await agent.keyboard.press("?")
    shortcuts = agent.locator("#keys")
    await expect(shortcuts).to_be_visible()
    await expect(shortcuts).to_contain_text("take the case")
    await agent.keyboard.press("Escape")
    await expect(shortcuts).to_be_hidden()
    async with agent.expect_response(lambda r: r.url.endswith("/actions/start")):
        await agent.keyboard.press("s")  # start: the page takes the answer before going on
    await expect(agent.locator("#state")).to_have_text("in progress")
    await agent.keyboard.press("c")  # the comment form opens with the focus in it
    await agent.keyboard.type("::thanks")  # a canned answer, filled in for this case
    await agent.keyboard.press("Tab")
    await expect(agent.locator("#comment-text")).to_have_value(
        f"Спасибо за обращение, ООО «Ромашка»! Если вопрос решён, обращение "
        f"{created['number']} закроется автоматически."
    )
    await agent.keyboard.press("Tab")  # "Visible to the customer"
    await agent.keyboard.press("Tab")  # the form's button
    async with agent.expect_response(lambda r: r.url.endswith("/actions/comment")):
        await agent.keyboard.press("Enter")
    await expect(agent.locator("#timeline")).to_contain_text("Спасибо за обращение")
    # The answer to the comment is in (the live refresh may show it first): the page's
    # forms are the new ones, closed.
    await expect(agent.locator('details[data-form="comment"]')).not_to_have_attribute("open", "")
    await agent.keyboard.press("r")  # resolve: its form, focused
    await agent.keyboard.type("Ответили на вопрос")
    await agent.keyboard.press("Tab")
    await agent.keyboard.press("Enter")
    await expect(agent.locator("#state")).to_have_text("resolved")


async def test_an_admin_sets_people_and_tries_a_rule_change(
    console_url, chromium, http, tokens, tmp_path
) -> None:
    created = await new_request(http, tokens["operator"])  # routed by `everyone-else`
    admin = await signed_in(chromium, console_url, "admin")
    await admin.goto("/admin")
    assert await flaws(admin) == []
    row = admin.locator('tr[data-person="agent2-junior"]')
    await row.get_by_label("capacity of agent2-junior").fill("7")
    await row.get_by_label("skills of agent2-junior (name: level, …)").fill("cards: 2, tariffs: 1")
    await row.get_by_role("button", name="Save").click()
    row = admin.locator('tr[data-person="agent2-junior"]')
    await expect(row.get_by_label("capacity of agent2-junior")).to_have_value("7")
    people = await http.get("/api/v1/admin/users?limit=200", headers=tokens["admin"])
    junior = next(p for p in people.json()["items"] if p["username"] == "agent2-junior")
    assert junior["capacity"] == 7 and junior["skills"] == {"cards": 2, "tariffs": 1}
    # A bad skills line is refused, naming the field; nothing changes.
    await row.get_by_label("skills of agent2-junior (name: level, …)").fill("cards three")
    await row.get_by_role("button", name="Save").click()
    await expect(admin.locator("#problem")).to_contain_text("skills")

    # Everyone else to the north-west hotline: what would change?
    await admin.locator("#rules-file").select_option("10-intake.yaml")
    await expect(admin.locator("#rules-text")).to_contain_text("name: everyone-else")
    text = await admin.locator("#rules-text").input_value()
    await admin.locator("#rules-text").fill(
        text.replace("target: {line: L1}\n", "target: {line: L1, queue: hotline-nw}\n")
    )
    await admin.get_by_role("button", name="What if").click()
    whatif = admin.locator("#whatif")
    await expect(whatif).to_contain_text(created["number"])
    await expect(whatif.locator('tr[data-volume="hotline-nw"]')).to_be_visible()
    await admin.screenshot(path=shots(tmp_path) / "admin.png", full_page=True)
    await admin.get_by_role("button", name="Make the files on disk live").click()
    await expect(admin.locator("#reloaded")).to_contain_text("Live: version")


async def test_an_admin_adds_a_team_renames_it_and_moves_a_person_there(
    console_url, chromium, http, tokens
) -> None:
    code = f"l2-new-{random.randrange(10**6)}"
    admin = await signed_in(chromium, console_url, "admin")
    await admin.goto("/admin")
    new = admin.locator('tr[data-team="new"]')
    await new.get_by_label("New team").fill("Bad Code!")
    await new.get_by_label("name of new").fill("Вторая линия, новая")
    await new.get_by_role("button", name="Add").click()  # the browser holds it: not a code
    assert await new.get_by_label("New team").evaluate("el => el.validity.patternMismatch")
    await new.get_by_label("New team").fill(code)
    await new.get_by_label("name of new").fill("Вторая линия, новая")
    await new.get_by_label("line of new").select_option("L2")
    await new.get_by_role("button", name="Add").click()
    row = admin.locator(f'tr[data-team="{code}"]')
    await expect(row.get_by_label(f"name of {code}")).to_have_value("Вторая линия, новая")
    await row.get_by_label(f"name of {code}").fill("Вторая линия, Северо-Запад")
    await row.get_by_label(f"region of {code}").fill("RU-SPE")
    async with admin.expect_response("**/admin/teams"):
        await row.get_by_role("button", name="Save").click()
    teams = await http.get("/api/v1/admin/teams?limit=100", headers=tokens["admin"])
    saved = next(t for t in teams.json()["items"] if t["code"] == code)
    assert saved == {
        "code": code, "name": "Вторая линия, Северо-Запад", "line": "L2", "region": "RU-SPE",
        "requeue_when_away": False,
    }  # fmt: skip

    person = admin.locator('tr[data-person="agent2-away"]')
    was = await person.get_by_label("team of agent2-away").input_value()
    await person.get_by_label("team of agent2-away").select_option(code)
    async with admin.expect_response("**/admin/people/agent2-away/settings"):
        await person.get_by_role("button", name="Save").click()
    people = await http.get("/api/v1/admin/users?limit=200", headers=tokens["admin"])
    assert next(p for p in people.json()["items"] if p["username"] == "agent2-away")["team"] == code
    person = admin.locator('tr[data-person="agent2-away"]')
    await person.get_by_label("team of agent2-away").select_option(was)
    await person.get_by_role("button", name="Save").click()
    await expect(person.get_by_label("team of agent2-away")).to_have_value(was)
    assert await flaws(admin) == []


async def test_a_deal_page_checks_off_the_stage_live_and_moves_on(
    console_url, chromium, http, tokens, tmp_path
) -> None:
    """The manager's deal page: what leaving the stage asks for, checked off as it is done —
    here by the supervisor through the API, shown without a reload — fields filled in place,
    the task completed there, the move, and every change in the history."""
    customer = await company_of(http, tokens)
    deal = (await new_deal(http, tokens, customer)).json()
    task = deal["tasks"][0]
    manager = await signed_in(chromium, console_url, "manager")
    await manager.goto("/deals/board?pipeline=b2b")
    await manager.locator(f"#deal-{deal['id']}").get_by_role("link", name=deal["title"]).click()
    await expect(manager).to_have_url(f"{console_url}/deals/{deal['id']}")
    assert await flaws(manager) == []
    checklist = manager.locator("#checklist li")
    await expect(checklist).to_have_count(3)  # budget, decision_maker, the first call
    await expect(manager.locator('#checklist li[data-done="false"]')).to_have_count(3)

    patched = await http.patch(
        f"/api/v1/deals/{deal['id']}", json={"fields": {"budget": 750000}},
        headers=tokens["supervisor"],
    )  # fmt: skip
    assert patched.status_code == 200, patched.text
    budget = manager.locator("#checklist li", has_text="budget")
    await expect(budget).to_have_attribute("data-done", "true", timeout=LIVE)
    await expect(manager.locator("#field-budget")).to_have_value("750000")

    await manager.get_by_label("decision_maker", exact=True).fill("Финансовый директор")
    await manager.get_by_role("button", name="Save decision_maker").click()
    maker = manager.locator("#checklist li", has_text="decision_maker")
    await expect(maker).to_have_attribute("data-done", "true")
    await manager.get_by_role("button", name="Advance →").click()  # the call is not done yet
    await expect(manager.locator("#problem .missing")).to_contain_text(task["title"])
    await (
        manager.locator(f'li[data-task="{task["id"]}"]')
        .get_by_role("button", name="Complete")
        .click()
    )
    await expect(manager.locator('#checklist li[data-done="false"]')).to_have_count(0)
    await manager.screenshot(path=shots(tmp_path) / "deal.png", full_page=True)
    await manager.get_by_role("button", name="Advance →").click()
    await expect(manager.locator("#deal-stage")).to_have_attribute("data-stage", "needs_analysis")
    history = manager.locator("#history")
    await expect(history).to_contain_text("supervisor: patch")
    await expect(history).to_contain_text("decision_maker: — → Финансовый директор")
    await expect(history).to_contain_text("manager: advance")
    assert await flaws(manager) == []


async def test_the_operator_sees_the_offer_with_its_reason_and_records_the_answer(
    console_url, chromium, http, tokens
) -> None:
    """A fleet on fuel cards without telematics, consenting to marketing: the card offers
    telematics with the reason to say; a decline hides it and goes into the timeline."""
    customer = await company_of(http, tokens, "manager")
    for url, body in (
        (f"/api/v1/customers/{customer}/products",
         {"type": "fuel_card", "name": "Топливная карта", "opened_on": "2025-03-01"}),
        (f"/api/v1/customers/{customer}/consents",
         {"channel": "phone", "purpose": "marketing", "granted": True}),
    ):  # fmt: skip
        answer = await http.post(url, json=body, headers=tokens["admin"])
        assert answer.status_code == 201, answer.text
    operator = await signed_in(chromium, console_url, "operator")
    await operator.goto(f"/intake?customer_id={customer}")
    offer = operator.locator('#offers li[data-offer="telematics"]')
    await expect(offer).to_contain_text("Телематика для автопарка")
    await expect(offer).to_contain_text("нет телематики")
    assert await flaws(operator) == []
    await offer.get_by_role("button", name="Declined").click()
    await expect(operator.locator('li[data-suppressed="telematics"]')).to_contain_text(
        "declined within 60 days"
    )
    await expect(operator.locator('#offers li[data-offer="telematics"]')).to_have_count(0)
    timeline = await http.get(f"/api/v1/customers/{customer}/interactions", headers=tokens["admin"])
    assert any("declined" in i["comment"] for i in timeline.json()["items"])


async def test_a_supervisor_sees_where_each_value_comes_from_and_merges_a_duplicate(
    console_url, chromium, http, tokens
) -> None:
    """The profile page: each field with the source that won and the one that lost; a
    likely duplicate merged in from the page and the merge undone there."""
    word = f"Вектор{random.randrange(10**5)}"
    made = []
    for name in (f"ООО «{word}»", f"{word} LLC"):
        answer = await http.post(
            "/api/v1/customers",
            json={"kind": "organization", "name": name, "region": "RU-MOW",
                  "segment": "b2b_commercial",
                  "phones": [f"+7 916 {random.randrange(10**7):07d}"]},
            headers=tokens["operator"],
        )  # fmt: skip
        made.append(answer.json())
    survivor, duplicate = made
    await http.patch(
        f"/api/v1/customers/{survivor['id']}", json={"contact_person": "Анна Белова"},
        headers=tokens["admin"],
    )  # fmt: skip
    await http.patch(
        f"/api/v1/customers/{survivor['id']}?source=web_form", json={"name": "vektor-online"},
        headers=tokens["admin"],
    )  # fmt: skip
    supervisor = await signed_in(chromium, console_url, "supervisor")
    await supervisor.goto(f"/customers/{survivor['id']}")
    shown = supervisor.locator('#explain tr[data-field="name"]')
    await expect(shown.locator("td[data-source]")).to_contain_text("call_centre")
    await expect(shown).to_contain_text("vektor-online (web_form")
    assert await flaws(supervisor) == []
    listed = supervisor.locator(f'#duplicates li[data-duplicate="{duplicate["id"]}"]')
    await listed.get_by_label(f"Why merge {duplicate['name']}").fill("одна компания")
    await listed.get_by_role("button", name="Merge into this profile").click()
    await expect(supervisor.locator("#merged")).to_contain_text("done")
    phones = supervisor.locator('#explain tr[data-field="phones"]')
    await expect(phones).to_contain_text(duplicate["phones"][0])
    gone = await http.get(f"/api/v1/customers/{duplicate['id']}", headers=tokens["supervisor"])
    assert gone.json()["merged_into"] == survivor["id"]
    await supervisor.get_by_role("button", name="Undo this merge").click()
    await expect(supervisor.locator("#merged")).to_contain_text("undone")
    await expect(supervisor.locator('#explain tr[data-field="phones"]')).not_to_contain_text(
        duplicate["phones"][0]
    )
    back = await http.get(f"/api/v1/customers/{duplicate['id']}", headers=tokens["supervisor"])
    assert back.json()["merged_into"] is None
