"""Admin: rules checked, previewed and reloaded without restart; people managed for assignment."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from sqlalchemy import select
from temporalio.client import WorkflowExecutionStatus
from typer.testing import CliRunner

from activities.requests import RequestActivities
from caseflow.models import User
from caseflow.platform.db import transaction
from caseflow.platform.settings import ROOT, get_settings
from caseflow.routing import state as rules_state
from caseflow.routing.rulebook import RuleHolder
from cli.demo import seed
from cli.main import app as cli
from tests.helpers import ROMASHKA_FACTS
from tests.test_assignment import register_input_routed

INTAKE = (ROOT / "routing_rules" / "10-intake.yaml").read_text()
VIP_TO_VIP_DESK = INTAKE.replace(
    """    target: {line: L2, person: customer.personal_manager}
    overflow: {queue: l2-vip}""",
    """    target: {line: L2, queue: l2-vip}""",
)


async def test_validate_names_file_line_and_reason(http, tokens) -> None:
    ok = await http.post("/api/v1/admin/routing/validate", headers=tokens["admin"], json={})
    assert ok.status_code == 200 and ok.json()["valid"] is True
    broken = (
        "rules:\n  - name: x\n    when: {tier: {like: vip}}\n    target: {line: L1}\n"
        "  - name: y\n    target: {line: L2, queue: l2-nowhere}\n"
    )
    answer = await http.post(
        "/api/v1/admin/routing/validate",
        headers=tokens["admin"],
        json={"files": {"50-new.yaml": broken}},
    )
    assert answer.status_code == 422
    errors = [(e["file"], e["line"], e["reason"]) for e in answer.json()["errors"]]
    assert errors[0][:2] == ("50-new.yaml", 3) and "like" in errors[0][2]
    assert errors[1][:2] == ("50-new.yaml", 6) and "l2-nowhere" in errors[1][2]
    bad_name = await http.post(
        "/api/v1/admin/routing/validate", headers=tokens["admin"], json={"files": {"../x.yaml": ""}}
    )
    assert bad_name.status_code == 422
    assert (
        await http.post("/api/v1/admin/routing/validate", headers=tokens["operator"], json={})
    ).status_code == 403


async def test_dry_run_shows_changed_decisions_and_volumes(http, tokens) -> None:
    vip = await http.post(
        "/api/v1/requests",
        headers=tokens["operator"],
        json={
            "customer": {"email": "anna@example.com"},
            "channel": "phone",
            "topic": "consultation",
            "subject": "VIP",
            "description": "вопрос",
        },
    )
    assert vip.status_code == 201 and vip.json()["assignment"]["rule"] == "vip-personal-manager"
    answer = await http.post(
        "/api/v1/admin/routing/dry-run",
        headers=tokens["admin"],
        json={"files": {"10-intake.yaml": VIP_TO_VIP_DESK}, "request_ids": [vip.json()["id"]]},
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["sample_size"] == 1 and len(report["changed"]) == 1
    change = report["changed"][0]
    assert change["before"]["person"] == "agent2-vip" and change["after"]["queue"] == "l2-vip"
    assert report["volume"]["l2-vip"] == {"before": 0, "after": 1}
    same = await http.post(
        "/api/v1/admin/routing/dry-run", headers=tokens["admin"], json={"sample": 20}
    )
    assert same.json()["changed"] == []


async def test_reload_makes_workers_switch_at_their_next_decision(
    sessions, tmp_path, http, tokens
) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "routing_rules", rules)
    holder = RuleHolder(rules)
    activities = RequestActivities(sessions, holder)
    first = await activities.register_request(register_input_routed_vip())
    assert first.assignment.rule == "vip-to-second-line"

    (rules / "05-vip-first.yaml").write_text(
        "rules:\n  - name: vip-straight-to-experts\n    when: {tier: vip}\n"
        "    target: {line: L3, queue: l3-experts}\n"
    )
    unchanged = await activities.register_request(register_input_routed_vip())
    assert unchanged.assignment.rule == "vip-to-second-line"  # not live until reloaded

    reload = await http.post("/api/v1/admin/routing/reload", headers=tokens["admin"])
    assert reload.status_code == 200
    switched = await activities.register_request(register_input_routed_vip())
    assert switched.assignment.rule == "vip-straight-to-experts"

    (rules / "06-broken.yaml").write_text("rules: [{name: broken}]\n")
    async with transaction(sessions) as session:
        await rules_state.bump(session, by="test")
    kept = await activities.register_request(register_input_routed_vip())
    assert kept.assignment.rule == "vip-straight-to-experts"  # a broken set never goes live
    assert (
        await http.post("/api/v1/admin/routing/reload", headers=tokens["supervisor"])
    ).status_code == 403


def register_input_routed_vip():
    return register_input_routed(ROMASHKA_FACTS.model_copy(update={"tier": "vip"}))


async def test_people_are_managed_for_assignment(http, tokens) -> None:
    admin, supervisor = tokens["admin"], tokens["supervisor"]
    patched = await http.patch(
        "/api/v1/admin/users/agent2-junior",
        headers=supervisor,
        json={"skills": {"cards": 2}, "capacity": 8},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["skills"] == {"cards": 2} and patched.json()["capacity"] == 8
    assert (
        await http.patch(
            "/api/v1/admin/users/agent2-junior", headers=supervisor, json={"team": "hotline"}
        )
    ).status_code == 403
    bad = await http.patch(
        "/api/v1/admin/users/agent2-junior", headers=admin, json={"skills": {"cards": 9}}
    )
    assert bad.status_code == 422
    absence = await http.post(
        "/api/v1/admin/users/agent2-junior/absences",
        headers=admin,
        json={
            "starts_at": "2026-12-01T09:00:00+03:00",
            "ends_at": "2026-12-14T18:00:00+03:00",
            "reason": "отпуск",
        },
    )
    assert absence.status_code == 201
    backwards = await http.post(
        "/api/v1/admin/users/agent2-junior/absences",
        headers=admin,
        json={"starts_at": "2026-12-14T09:00:00Z", "ends_at": "2026-12-01T09:00:00Z"},
    )
    assert backwards.status_code == 422
    assert (
        await http.patch("/api/v1/admin/users/nobody", headers=admin, json={"capacity": 1})
    ).status_code == 404
    people = (await http.get("/api/v1/admin/users", headers=supervisor)).json()["items"]
    assert "agent2-junior" in {p["username"] for p in people}


async def test_cli_what_if_and_users_set(monkeypatch, settings, tmp_path: Path, engine) -> None:
    monkeypatch.setenv("CASEFLOW_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    proposed = tmp_path / "10-intake.yaml"
    proposed.write_text(VIP_TO_VIP_DESK)
    try:
        report = await asyncio.to_thread(
            runner.invoke, cli, ["rules", "what-if", str(proposed), "--sample", "500"]
        )
        updated = await asyncio.to_thread(
            runner.invoke,
            cli,
            ["users", "set", "agent2-b2b", "--skill", "tariffs=5", "--capacity", "12"],
        )
        wrong = await asyncio.to_thread(
            runner.invoke, cli, ["users", "set", "agent2-b2b", "--skill", "tariffs=9"]
        )
    finally:
        get_settings.cache_clear()
    assert report.exit_code == 0, report.output
    assert "10-intake.yaml replaces the live file of that name" in report.output
    assert "decisions would change" in report.output and "l2-vip" in report.output
    assert updated.exit_code == 0 and wrong.exit_code == 2


async def test_going_away_gives_unstarted_requests_back_to_the_queue(http, tokens) -> None:
    created = await http.post(
        "/api/v1/requests",
        headers=tokens["operator"],
        json={
            "customer_id": ROMASHKA_FACTS.id,
            "channel": "phone",
            "topic": "consultation",
            "subject": "Вопрос",
            "description": "Описание",
        },
    )
    request = created.json()
    owner = request["assignee"]
    other = ({"operator", "operator-b"} - {owner}).pop()
    try:
        away = await http.patch(
            f"/api/v1/admin/users/{owner}",
            headers=tokens["supervisor"],
            json={"availability": "away"},
        )
        assert away.status_code == 200
        for _ in range(50):  # the signal is handled by the worker a moment later
            view = (
                await http.get(f"/api/v1/requests/{request['id']}", headers=tokens["supervisor"])
            ).json()
            if view["assignee"] != owner:
                break
            await asyncio.sleep(0.1)
    finally:
        await http.patch(
            f"/api/v1/admin/users/{owner}",
            headers=tokens["supervisor"],
            json={"availability": "available"},
        )
    assert (view["assignee"], view["queue"], view["state"]) == (other, "hotline", "assigned")
    cancelled = await http.post(
        f"/api/v1/requests/{request['id']}/cancel",
        headers=tokens["supervisor"],
        json={"reason": "тест"},
    )
    assert cancelled.status_code == 200, cancelled.text
    events = (
        await http.get(f"/api/v1/requests/{request['id']}/events", headers=tokens["supervisor"])
    ).json()["items"]
    assert [e["action"] for e in events][-2:] == ["requeue", "cancel"]
    assert f"{owner} is away" in events[-2]["reason"]


async def test_teams_are_managed_and_rules_may_then_name_them(http, tokens) -> None:
    team = {
        "code": "l2-insurance",
        "name": "Страхование",
        "line": "L2",
        "region": None,
        "requeue_when_away": True,
    }
    rules = {
        "files": {
            "60-insurance.yaml": "rules:\n  - name: insurance\n"
            "    when: {topic: billing}\n    target: {line: L2, queue: l2-insurance}\n"
        }
    }
    before = await http.post("/api/v1/admin/routing/validate", headers=tokens["admin"], json=rules)
    assert before.status_code == 422
    saved = await http.put("/api/v1/admin/teams/l2-insurance", headers=tokens["admin"], json=team)
    assert saved.status_code == 200, saved.text
    after = await http.post("/api/v1/admin/routing/validate", headers=tokens["admin"], json=rules)
    assert after.status_code == 200
    listed = (await http.get("/api/v1/admin/teams", headers=tokens["supervisor"])).json()["items"]
    assert team in listed
    assert (
        await http.put("/api/v1/admin/teams/l2-insurance", headers=tokens["supervisor"], json=team)
    ).status_code == 403
    assert (
        await http.put("/api/v1/admin/teams/other", headers=tokens["admin"], json=team)
    ).status_code == 422


async def test_a_withdrawn_absence_cancels_its_timer(http, tokens, dev_env) -> None:
    created = await http.post(
        "/api/v1/admin/users/agent2-b2b/absences",
        headers=tokens["admin"],
        json={
            "starts_at": "2030-01-10T09:00:00+03:00",
            "ends_at": "2030-01-20T18:00:00+03:00",
            "reason": "отпуск",
        },
    )
    assert created.status_code == 201, created.text
    absence = created.json()
    timer = dev_env.client.get_workflow_handle(absence["workflow_id"])
    assert (await timer.describe()).status == WorkflowExecutionStatus.RUNNING
    path = f"/api/v1/admin/users/agent2-b2b/absences/{absence['id']}"
    assert (await http.delete(path, headers=tokens["admin"])).status_code == 204
    for _ in range(50):  # the worker acts on the cancellation a moment later
        status = (await timer.describe()).status
        if status != WorkflowExecutionStatus.RUNNING:
            break
        await asyncio.sleep(0.1)
    assert status == WorkflowExecutionStatus.CANCELED
    assert (await http.delete(path, headers=tokens["admin"])).status_code == 404
    other = f"/api/v1/admin/users/agent2/absences/{absence['id']}"
    assert (await http.delete(other, headers=tokens["admin"])).status_code == 404


async def test_validate_takes_a_yaml_body_as_is(http, tokens) -> None:
    headers = {**tokens["admin"], "content-type": "application/yaml"}
    good = "rules:\n  - name: extra\n    when: {channel: chat}\n    target: {line: L1}\n"
    ok = await http.post("/api/v1/admin/routing/validate", headers=headers, content=good.encode())
    assert ok.status_code == 200, ok.text
    bad = await http.post(
        "/api/v1/admin/routing/validate",
        headers=headers,
        content=b"rules:\n  - name: extra\n    target: {line: L7}\n",
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["file"] == "proposed.yaml"
    assert bad.json()["errors"][0]["line"] == 3
    garbage = await http.post(
        "/api/v1/admin/routing/validate",
        headers=tokens["admin"],
        content=b"{not json",
    )
    assert garbage.status_code == 422


async def test_people_and_teams_lists_are_paged_like_every_list(http, tokens) -> None:
    for path in ("/api/v1/admin/users", "/api/v1/admin/teams", "/api/v1/supervisor/workload"):
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, object] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
            page = (await http.get(path, params=params, headers=tokens["admin"])).json()
            assert len(page["items"]) <= 3
            seen += [item.get("username") or item["code"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) > 3 and seen == sorted(set(seen)), path
    bad = await http.get("/api/v1/admin/users", params={"cursor": "@@"}, headers=tokens["admin"])
    assert bad.status_code == 422


def test_what_if_with_a_missing_file_says_so_in_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(cli, ["rules", "what-if", str(tmp_path / "new-rules.yaml")])
    assert missing.exit_code == 2
    lines = [line for line in missing.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot read" in lines[0] and "new-rules.yaml" in lines[0]
    assert "Traceback" not in missing.output
    binary = tmp_path / "10-intake.yaml"
    binary.write_bytes(b"\xff\xfe\x00rules")
    unreadable = runner.invoke(cli, ["rules", "what-if", str(binary)])
    assert unreadable.exit_code == 2 and "cannot read" in unreadable.output


async def test_the_demo_seed_adds_what_is_missing_and_keeps_what_people_changed(sessions) -> None:
    """`make run` seeds at every start: capacity, availability and skills set since stay."""
    async with transaction(sessions) as session:
        person = await session.scalar(select(User).where(User.username == "agent2-junior"))
        assert person is not None
        before = (person.capacity, person.availability, dict(person.skills))
        person.capacity, person.availability, person.skills = 3, "away", {"cards": 1}
    try:
        async with transaction(sessions) as session:
            await seed(session)
        async with sessions() as session:
            person = await session.scalar(select(User).where(User.username == "agent2-junior"))
            assert person is not None
            assert (person.capacity, person.availability, person.skills) == (
                3,
                "away",
                {"cards": 1},
            )
    finally:
        async with transaction(sessions) as session:
            person = await session.scalar(select(User).where(User.username == "agent2-junior"))
            assert person is not None
            person.capacity, person.availability, person.skills = before
