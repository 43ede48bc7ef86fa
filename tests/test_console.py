"""The console over HTTP as a browser uses it: sign-in, sessions, CSRF, who sees which case,
an action on a page that went stale. (The browser itself: test_console_browser.py.)"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from api.app import create_app
from caseflow.models import Notification
from tests.conftest import TICKETING
from tests.console_client import browser, csrf_of, sign_in
from tests.test_deals_api import company_of, new_deal
from tests.test_supervisor import new_request


async def test_the_console_sends_a_stranger_to_sign_in(caseflow_app) -> None:
    async with browser(caseflow_app) as client:
        answer = await client.get("/queue")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=/queue"
        page = await client.get("/login")
        assert page.status_code == 200 and 'name="password"' in page.text
        # An htmx request is told where to go rather than given the login page as a block.
        fragment = await client.get("/queue", headers={"HX-Request": "true"})
        assert fragment.headers["HX-Redirect"] == "/login?next=/queue"


async def test_signing_in_gives_a_protected_session_cookie(caseflow_app) -> None:
    async with browser(caseflow_app) as client:
        token = csrf_of(await client.get("/login"))
        answer = await client.post(
            "/login",
            data={"username": "agent2", "password": "demo", "csrftoken": token, "next": "/queue"},
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/queue"
        cookie = next(
            v for k, v in answer.headers.multi_items() if k == "set-cookie" and "session" in v
        )
        assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
        page = await client.get("/queue")
        assert page.status_code == 200 and "Алексей Вторых" in page.text


async def test_a_wrong_password_is_refused_on_the_page(caseflow_app) -> None:
    async with browser(caseflow_app) as client:
        token = csrf_of(await client.get("/login"))
        answer = await client.post(
            "/login", data={"username": "agent2", "password": "nope", "csrftoken": token}
        )
        assert answer.status_code == 401
        assert "wrong username or password" in answer.text
        assert (await client.get("/queue")).status_code == 303


async def test_a_form_without_its_csrf_token_is_refused(caseflow_app, http, tokens) -> None:
    created = await new_request(http, tokens["operator"])
    holder = created["assignee"]
    async with browser(caseflow_app) as client:
        await sign_in(client, holder)
        # Signed in, but the post does not carry the page's token (another site's form).
        answer = await client.post(
            f"/cases/{created['id']}/actions/start", data={"version": created["last_seq"]}
        )
        assert answer.status_code == 403
        assert answer.json()["code"] == "csrf_failed"
        # The login form itself is guarded too (login CSRF).
        login = await client.post("/login", data={"username": holder, "password": "demo"})
        assert login.status_code == 403
    after = await http.get(f"/api/v1/requests/{created['id']}", headers=tokens["operator"])
    assert after.json()["state"] == created["state"]  # nothing happened


async def test_another_teams_case_is_not_reachable_by_url(caseflow_app, http, tokens) -> None:
    created = await new_request(http, tokens["operator"])
    async with browser(caseflow_app) as client:
        await sign_in(client, "agent2-b2b")  # second line, business customers
        page = await client.get(f"/cases/{created['id']}")
        assert page.status_code == 404
        assert created["number"] not in page.text and created["subject"] not in page.text
        live = await client.get(f"/cases/{created['id']}/live")
        assert live.status_code == 404


async def test_another_managers_deal_is_not_reachable_by_url(caseflow_app, http, tokens) -> None:
    customer = await company_of(http, tokens)
    deal = (await new_deal(http, tokens, customer)).json()
    async with browser(caseflow_app) as client:
        await sign_in(client, "manager-b")
        for url in (f"/deals/{deal['id']}", f"/deals/{deal['id']}/live"):
            page = await client.get(url)
            assert page.status_code == 404, url
            assert deal["title"] not in page.text
        token = csrf_of(await client.get("/deals/board"))
        moved = await client.post(
            f"/deals/{deal['id']}/win", data={"csrftoken": token, "back": "deal"}
        )
        assert moved.status_code == 404
    async with browser(caseflow_app) as client:
        await sign_in(client, "manager")
        page = await client.get(f"/deals/{deal['id']}")
        assert page.status_code == 200 and deal["title"] in page.text
    now = await http.get(f"/api/v1/deals/{deal['id']}", headers=tokens["manager"])
    assert now.json()["status"] == "open"


async def test_an_action_on_a_stale_page_is_refused_with_what_changed(
    caseflow_app, http, tokens
) -> None:
    created = await new_request(http, tokens["operator"])
    holder, seen = created["assignee"], created["last_seq"]
    async with browser(caseflow_app) as client:
        token = await sign_in(client, holder)
        page = await client.get(f"/cases/{created['id']}")
        assert page.status_code == 200 and created["number"] in page.text
        assert 'data-action="start"' in page.text
        # Meanwhile someone else comments (through the API): the page's version is old.
        other = await http.post(
            f"/api/v1/requests/{created['id']}/comment",
            json={"text": "called back, no answer"},
            headers=tokens["supervisor"],
        )
        assert other.status_code == 200, other.text
        stale = await client.post(
            f"/cases/{created['id']}/actions/start",
            data={"csrftoken": token, "version": str(seen)},
            headers={"HX-Request": "true"},
        )
        assert stale.status_code == 409
        assert "changed since you loaded it" in stale.text
        assert "supervisor: comment" in stale.text  # what changed, by whom
        now = await http.get(f"/api/v1/requests/{created['id']}", headers=tokens["operator"])
        assert now.json()["state"] == created["state"]  # not applied over the change
        fresh = now.json()["last_seq"]
        started = await client.post(
            f"/cases/{created['id']}/actions/start",
            data={"csrftoken": token, "version": str(fresh)},
            headers={"HX-Request": "true"},
        )
        assert started.status_code == 200, started.text
        assert 'data-state="in_progress"' in started.text


@pytest.fixture
async def idle_app(settings, engine, dev_env):
    quick = settings.model_copy(update={"console_idle_timeout": timedelta(seconds=1)})
    app = create_app(quick, temporal=dev_env.client, engine=engine, ticketing=TICKETING)
    async with app.router.lifespan_context(app):
        yield app


async def test_an_idle_session_ends(idle_app) -> None:
    async with browser(idle_app) as client:
        await sign_in(client, "agent2")
        assert (await client.get("/queue")).status_code == 200
        await asyncio.sleep(1.5)
        answer = await client.get("/queue")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


async def test_signing_out_ends_the_session(caseflow_app) -> None:
    async with browser(caseflow_app) as client:
        token = await sign_in(client, "agent2")
        out = await client.post("/logout", data={"csrftoken": token})
        assert out.status_code == 303
        assert (await client.get("/queue")).status_code == 303


async def test_each_queue_count_is_the_number_of_its_rows(caseflow_app, http, tokens) -> None:
    first = await new_request(http, tokens["operator"])
    await new_request(http, tokens["operator"])
    async with browser(caseflow_app) as client:
        await sign_in(client, first["assignee"])
        page = (await client.get("/queue?view=mine")).text
        for view in ("mine", "waiting", "breached", "open"):
            shown = await client.get(f"/queue?view={view}")
            listed = shown.text.count("<tr data-case=")
            counted = re.search(rf'data-view="{view}">(\d+)<', page)
            assert counted, view
            assert min(int(counted.group(1)), 50) == listed, view  # a page holds 50
        assert first["number"] in page


async def test_the_api_lists_and_counts_the_same_views_as_the_console(
    caseflow_app, http, tokens
) -> None:
    created = await new_request(http, tokens["operator"])
    who = created["assignee"]
    headers = tokens[who]
    views = await http.get("/api/v1/requests/views", headers=headers)
    assert views.status_code == 200, views.text
    counted = {v["code"]: v["count"] for v in views.json()}
    async with browser(caseflow_app) as client:
        await sign_in(client, who)
        page = (await client.get("/queue?view=mine")).text
    tabs = dict(re.findall(r'data-view="(\w+)">(\d+)<', page))
    assert counted == {code: int(n) for code, n in tabs.items()}
    mine = await http.get("/api/v1/requests", params={"view": "mine"}, headers=headers)
    assert created["id"] in [r["id"] for r in mine.json()["items"]]
    assert all(r["assignee"] == who for r in mine.json()["items"])
    # A supervisor has no team view; a filter the view fixes cannot be changed.
    team = await http.get("/api/v1/requests?view=team", headers=tokens["supervisor"])
    assert team.status_code == 422 and team.json()["errors"][0]["field"] == "view"
    clash = await http.get("/api/v1/requests?view=waiting&state=closed", headers=headers)
    assert clash.status_code == 422 and clash.json()["errors"][0]["field"] == "state"
    narrowed = await http.get(
        "/api/v1/requests", params={"view": "open", "state": "closed"}, headers=headers
    )
    assert narrowed.status_code == 200 and narrowed.json()["items"] == []


async def test_a_supervisor_sees_a_failed_email_and_sends_it_again(
    caseflow_app, http, tokens, sessions, mailbox
) -> None:
    created = await new_request(http, tokens["operator"])
    message_id = f"<console-{uuid.uuid4().hex}@caseflow.local>"
    to = f"resend-{uuid.uuid4().hex[:8]}@caseflow.local"  # this test's own mailbox
    now = datetime.now(UTC)
    async with sessions() as session:
        session.add(
            Notification(
                message_id=message_id, recipient_key="user:agent2", recipient=to,
                request_id=created["id"], events=["request_assigned"], notice_keys=["k"],
                importance="normal", subject=f"Обращение {created['number']}", text="Текст",
                status="failed", attempts=10, error="550 mailbox unavailable",
                first_notice_at=now, batched_at=now,
            )
        )  # fmt: skip
        await session.commit()
    async with browser(caseflow_app) as client:
        token = await sign_in(client, "supervisor")
        floor = await client.get("/floor")
        assert floor.status_code == 200
        assert f"Обращение {created['number']}" in floor.text and "550 mailbox" in floor.text
        case = await client.get(f"/cases/{created['id']}")
        assert 'data-email="failed"' in case.text  # the case lists its e-mails too
        again = await client.post(
            "/floor/emails/resend", data={"csrftoken": token, "message_id": message_id}
        )
        assert again.status_code == 200 and 'id="resent"' in again.text
    (message,) = await mailbox.wait_for(to, seconds=15)
    assert message["Message-ID"] == message_id


async def test_a_team_with_a_bad_code_is_refused_naming_the_field(
    caseflow_app, http, tokens
) -> None:
    async with browser(caseflow_app) as client:
        await sign_in(client, "admin")
        token = csrf_of(await client.get("/admin"))
        answer = await client.post(
            "/admin/teams",
            data={"csrftoken": token, "code": "Bad Code!", "name": "x", "line": "L2"},
        )
        assert answer.status_code == 422
        assert 'id="teams-problem"' in answer.text and "code" in answer.text
        supervisor = await team_saved_by(caseflow_app, "supervisor")
        assert supervisor == 403
    teams = await http.get("/api/v1/admin/teams?limit=100", headers=tokens["admin"])
    assert "Bad Code!" not in {t["code"] for t in teams.json()["items"]}


async def team_saved_by(app, username: str) -> int:
    """What a team saved by this person gets: a supervisor may list teams, not change them."""
    async with browser(app) as client:
        await sign_in(client, username)
        token = csrf_of(await client.get("/admin"))
        answer = await client.post(
            "/admin/teams",
            data={"csrftoken": token, "code": "l2-support", "name": "taken over", "line": "L2"},
        )
        return answer.status_code


async def test_an_operator_changes_a_profile_field_and_a_refusal_is_said_in_place(
    caseflow_app, http, tokens
) -> None:
    person = {"kind": "person", "name": "Правка Профиля", "region": "RU-MOW", "segment": "b2c",
              "emails": [f"edit-{uuid.uuid4().hex[:8]}@example.org"]}  # fmt: skip
    made = await http.post("/api/v1/customers", json=person, headers=tokens["operator"])
    customer = made.json()["id"]
    added = f"new-{uuid.uuid4().hex[:8]}@example.org"
    async with browser(caseflow_app) as client:
        await sign_in(client, "operator")
        page = await client.get(f"/customers/{customer}")
        assert 'id="edit"' in page.text
        token = csrf_of(page)
        refused = await client.post(
            f"/customers/{customer}/edit",
            data={"field": "inn", "value": "1234", "csrftoken": token},
        )
        assert refused.status_code == 422 and 'id="problem"' in refused.text
        assert "inn" in refused.text
        saved = await client.post(
            f"/customers/{customer}/edit",
            data={
                "field": "emails",
                "value": f"{person['emails'][0]}, {added}",
                "csrftoken": token,
            },
        )
        assert saved.status_code == 200, saved.text[:500]
    shown = await http.get(f"/api/v1/customers/{customer}?explain=true", headers=tokens["operator"])
    emails = {s["value"]: s["source"] for s in shown.json()["explain"]["emails"]["sources"]}
    assert emails.get(added) == "call_centre"


async def test_a_product_a_consent_and_an_offers_answer_recorded_from_the_profile(
    caseflow_app, http, tokens
) -> None:
    """The operator records a fuel card the customer holds: telematics is offered only once
    the customer agrees to marketing, and after they decline it, it is not offered again."""
    address = f"cards-{uuid.uuid4().hex[:8]}@example.org"
    person = {"kind": "person", "name": "Карта Без Телематики", "region": "RU-MOW",
              "segment": "b2c", "emails": [address]}  # fmt: skip
    made = await http.post("/api/v1/customers", json=person, headers=tokens["operator"])
    customer = made.json()["id"]
    url = f"/customers/{customer}"
    async with browser(caseflow_app) as client:
        await sign_in(client, "operator")
        page = await client.get(url)
        token = csrf_of(page)
        assert 'id="add-product"' in page.text and 'id="add-consent"' in page.text
        refused = await client.post(f"{url}/product", data={
            "type": "fuel_card", "name": "Топливная карта", "opened_on": "", "csrftoken": token,
        })  # fmt: skip
        assert refused.status_code == 422 and "opened_on" in refused.text
        held = await client.post(f"{url}/product", data={
            "type": "fuel_card", "name": "Топливная карта", "opened_on": "2026-11-02",
            "csrftoken": token,
        })  # fmt: skip
        assert held.status_code == 200 and "Топливная карта" in held.text
        assert 'data-offer="telematics"' not in held.text  # no marketing consent yet
        agreed = await client.post(f"{url}/consent", data={
            "channel": "phone", "purpose": "marketing", "granted": "yes", "csrftoken": token,
        })  # fmt: skip
        assert agreed.status_code == 200
        assert 'data-offer="telematics"' in agreed.text
        declined = await client.post(
            f"{url}/offers/telematics", data={"outcome": "declined", "csrftoken": token}
        )
        assert declined.status_code == 200 and 'data-offer="telematics"' not in declined.text
    offers = await http.get(f"/api/v1/customers/{customer}/offers", headers=tokens["operator"])
    suppressed = {o["code"]: o["suppressed_because"] for o in offers.json()["suppressed"]}
    assert "telematics" in suppressed, offers.json()
    consents = await http.get(f"/api/v1/customers/{customer}/consents", headers=tokens["operator"])
    assert any(c["purpose"] == "marketing" and c["granted"]
               for c in consents.json()["in_force"])  # fmt: skip
