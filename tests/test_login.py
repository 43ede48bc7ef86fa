"""Logging in and tokens: throttled, locked after repeated failures, no telling which
usernames exist, tokens with expiry and id, integration tokens revoked one by one."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import jwt
from typer.testing import CliRunner

from api.app import create_app
from caseflow.people.store import upsert_user
from caseflow.requests.lifecycle import Role
from cli.main import app as cli
from tests.conftest import TICKETING
from tests.test_api import assert_problem
from tests.test_cli import cli_env  # noqa: F401  (a fixture)

TOKEN = "/api/v1/auth/token"


@asynccontextmanager
async def api(settings, dev_env, engine, **limits: object) -> AsyncIterator[httpx.AsyncClient]:
    """An API of its own with these login limits (the shared one keeps its defaults)."""
    app = create_app(
        settings.model_copy(update=limits),
        temporal=dev_env.client,
        engine=engine,
        ticketing=TICKETING,
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://caseflow") as client:
            yield client


async def person(sessions, name: str, role: Role = Role.OPERATOR) -> str:
    async with sessions() as db:
        await upsert_user(db, username=name, role=role, password="right", team=None)
        await db.commit()
    return name


async def login(client: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    return await client.post(TOKEN, data={"username": name, "password": password})


async def test_failures_are_throttled_per_username(settings, dev_env, engine, sessions) -> None:
    name = await person(sessions, "throttled-user")
    async with api(settings, dev_env, engine, login_failures_per_user="3/minute") as client:
        for _ in range(3):
            assert_problem(await login(client, name, "wrong"), 401, "invalid_credentials")
        # Now even the right password waits, and the answer says how long.
        refused = await login(client, name, "right")
        body = assert_problem(refused, 429, "too_many_attempts")
        assert 0 < int(refused.headers["Retry-After"]) == body["retry_after"] <= 60
        other = await person(sessions, "other-user")
        assert (await login(client, other, "right")).status_code == 200


async def test_failures_are_throttled_per_address(settings, dev_env, engine, sessions) -> None:
    limits = {"login_failures_per_user": "100/minute", "login_failures_per_address": "4/minute"}
    async with api(settings, dev_env, engine, **limits) as client:
        for n in range(4):
            assert_problem(await login(client, f"guess-{n}", "x"), 401, "invalid_credentials")
        assert_problem(await login(client, "guess-5", "x"), 429, "too_many_attempts")


async def test_repeated_failures_lock_until_an_admin_lifts_it(
    settings, dev_env, engine, sessions, http, tokens
) -> None:
    name = await person(sessions, "locked-user")
    limits = {"login_failures_per_user": "100/minute", "login_lockout_after": 3}
    async with api(settings, dev_env, engine, **limits) as client:
        for _ in range(3):
            assert_problem(await login(client, name, "wrong"), 401, "invalid_credentials")
        # Locked: the right password is refused like a wrong one (nothing to learn from it).
        assert_problem(await login(client, name, "right"), 401, "invalid_credentials")
        people = await http.get("/api/v1/admin/users?limit=200", headers=tokens["admin"])
        assert next(p for p in people.json()["items"] if p["username"] == name)["locked"]
        lift = {"locked": False}
        not_theirs = await http.patch(
            f"/api/v1/admin/users/{name}", json=lift, headers=tokens["supervisor"]
        )
        assert not_theirs.status_code in (403, 404)
        lifted = await http.patch(f"/api/v1/admin/users/{name}", json=lift, headers=tokens["admin"])
        assert lifted.status_code == 200 and lifted.json()["locked"] is False
        assert (await login(client, name, "right")).status_code == 200


async def test_an_unknown_username_takes_as_long_as_a_wrong_password(http, sessions) -> None:
    name = await person(sessions, "timed-user")

    async def took(username: str) -> float:
        started = time.perf_counter()
        assert_problem(await login(http, username, "wrong"), 401, "invalid_credentials")
        return time.perf_counter() - started

    known = statistics.median([await took(name) for _ in range(3)])
    unknown = statistics.median([await took(f"nobody-{n}") for n in range(3)])
    # Before, an unknown name was refused ~40 times faster (no bcrypt at all).
    assert unknown > known / 3, (known, unknown)


async def test_a_password_check_does_not_hold_other_requests(http, sessions) -> None:
    name = await person(sessions, "busy-user")
    finished: list[str] = []

    async def attempt() -> None:
        await login(http, name, "wrong")
        finished.append("login")

    async def health() -> None:
        await asyncio.sleep(0.01)
        assert (await http.get("/healthz")).status_code == 200
        finished.append("health")

    await asyncio.gather(attempt(), attempt(), health())
    assert finished[0] == "health", finished


async def test_tokens_need_an_expiry_and_an_id(http, settings) -> None:
    now = datetime.now(UTC)
    claims = {"sub": "operator", "role": "operator", "iat": now, "jti": "x" * 36}
    for made in (claims, {**claims, "exp": now + timedelta(hours=1), "jti": None}):
        made = {k: v for k, v in made.items() if v is not None}
        token = jwt.encode(made, settings.jwt_secret, algorithm="HS256")
        answer = await http.get("/api/v1/customers", headers={"Authorization": f"Bearer {token}"})
        assert_problem(answer, 401, "unauthorized")


async def test_an_integration_token_is_revoked_on_its_own(
    http,
    tokens,
    sessions,
    cli_env,  # noqa: F811
) -> None:
    await person(sessions, "crm-sync", Role.INTEGRATION)
    admin = tokens["admin"]
    issued = []
    for label in ("crm", "billing"):
        answer = await http.post(
            "/api/v1/admin/tokens", json={"username": "crm-sync", "label": label}, headers=admin
        )
        assert answer.status_code == 201, answer.text
        issued.append(answer.json())
    first, second = ({"Authorization": f"Bearer {t['token']}"} for t in issued)
    assert (await http.get("/api/v1/requests", headers=first)).status_code == 200
    listed = await http.get("/api/v1/admin/tokens?username=crm-sync", headers=admin)
    assert sorted(t["label"] for t in listed.json()) == ["billing", "crm"]
    assert "token" not in listed.json()[0]
    assert_problem(await http.get("/api/v1/admin/tokens", headers=tokens["operator"]), 403)

    gone = await http.delete(f"/api/v1/admin/tokens/{issued[0]['jti']}", headers=admin)
    assert gone.status_code == 200 and gone.json()["revoked_by"] == "admin"
    assert_problem(await http.get("/api/v1/requests", headers=first), 401, "unauthorized")
    assert (await http.get("/api/v1/requests", headers=second)).status_code == 200

    # The same from the command line.
    runner = CliRunner()
    shown = await asyncio.to_thread(runner.invoke, cli, ["tokens", "list", "--user", "crm-sync"])
    assert shown.exit_code == 0 and issued[1]["jti"] in shown.output
    lines = {line.split()[0]: line for line in shown.output.splitlines()}
    assert "revoked" in lines[issued[0]["jti"]] and "active" in lines[issued[1]["jti"]]
    done = await asyncio.to_thread(runner.invoke, cli, ["tokens", "revoke", issued[1]["jti"]])
    assert done.exit_code == 0, done.output
    assert_problem(await http.get("/api/v1/requests", headers=second), 401, "unauthorized")
