"""What `make run` starts, started for real on free ports, driven over HTTP from intake to close."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port


@pytest.fixture
def stack(tmp_path: Path):
    ports = {name: free_port() for name in ("api", "temporal", "ui", "smtp")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEFLOW_")}
    env["CASEFLOW_DIGEST_WINDOW"] = "PT1S"  # the e-mails come while the test waits
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "caseflow.cli",
            "dev",
            "--data-dir",
            str(tmp_path),
            "--api-port",
            str(ports["api"]),
            "--temporal-port",
            str(ports["temporal"]),
            "--ui-port",
            str(ports["ui"]),
            "--smtp-port",
            str(ports["smtp"]),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
    )
    banner: list[str] = []
    deadline = time.monotonic() + 120
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        banner.append(line)
        if line.startswith("Press Ctrl-C"):
            break
    try:
        assert any("Caseflow is running" in line for line in banner), "".join(banner)
        yield ports, "".join(banner), tmp_path
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        assert process.returncode == 0, process.stdout.read()


def test_make_run_stack_drives_a_request_to_close(stack) -> None:
    ports, banner, data_dir = stack
    assert "operator" in banner and "demo" in banner
    base = f"http://127.0.0.1:{ports['api']}/api/v1"
    with httpx.Client(base_url=base, timeout=30) as http:
        token = http.post("/auth/token", data={"username": "operator", "password": "demo"})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        customer = http.post(
            "/customers",
            headers=headers,
            json={
                "kind": "person",
                "name": "Мария Сквозная",
                "phones": ["+7 916 765-43-21"],
                "emails": ["maria.e2e@example.org"],
                "region": "RU-MOW",
                "segment": "b2c",
            },
        ).json()
        body = {
            "customer_id": customer["id"],
            "channel": "chat",
            "topic": "consultation",
            "subject": "Вопрос",
            "description": "Как оплатить счёт?",
        }
        created = http.post("/requests", json=body, headers={**headers, "Idempotency-Key": "e2e"})
        assert created.status_code == 201, created.text
        request = created.json()
        assert request["state"] == "assigned" and request["number"].startswith("REQ-")
        rid = request["id"]
        # Taken unless it is already the operator's (nobody takes what is theirs).
        mine: list[tuple[str, dict]] = [] if request["assignee"] == "operator" else [("take", {})]
        for action, payload in (
            *mine,
            ("start", {}),
            ("resolve", {"resolution": "Оплата картой на сайте"}),
            ("close", {}),
        ):
            answer = http.post(f"/requests/{rid}/{action}", json=payload, headers=headers)
            assert answer.status_code == 200, (action, answer.text)
        assert http.get(f"/requests/{rid}", headers=headers).json()["state"] == "closed"
        listed = http.get("/requests", params={"state": "closed"}, headers=headers).json()
        assert rid in [r["id"] for r in listed["items"]]

    ui = httpx.get(f"http://127.0.0.1:{ports['ui']}/", timeout=10)
    assert ui.status_code == 200
    assert (data_dir / "caseflow.db").exists() and (data_dir / "temporal.db").exists()

    # The catcher's mail, readable: `caseflow mail list` and `show` decode what went out.
    def caseflow(*args: str) -> str:
        command = [sys.executable, "-m", "caseflow.cli", "mail", *args, "--dir"]
        done = subprocess.run([*command, str(data_dir / "mail")], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    number = request["number"]
    for _ in range(100):
        if any(number in line for line in caseflow("list").splitlines()):
            break
        time.sleep(0.2)
    listed = [line for line in caseflow("list").splitlines() if number in line]
    assert listed and all("maria.e2e@example.org" in line for line in listed)
    shown = caseflow("show", listed[0].split()[0])
    assert f"Subject: Обращение {number}" in shown
    assert "Здравствуйте, Мария Сквозная!" in shown  # the text part, not base64
    assert number in (data_dir / "smtp.log").read_text()
