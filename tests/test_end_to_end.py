"""What `make run` starts, started for real on free ports, driven over HTTP from intake to close."""

from __future__ import annotations

import json
import os
import signal
import smtplib
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port


@pytest.fixture
def stack(tmp_path: Path):
    ports = {name: free_port() for name in ("api", "temporal", "ui", "smtp", "mail-in")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEFLOW_")}
    env["CASEFLOW_DIGEST_WINDOW"] = "PT1S"  # the e-mails come while the test waits
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli",
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
            "--mail-in-port",
            str(ports["mail-in"]),
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
        yield ports, "".join(banner), tmp_path, process
    finally:
        if process.poll() is None:  # a test may have killed it itself
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                raise
            assert process.returncode == 0, process.stdout.read()


def test_make_run_stack_drives_a_request_to_close(stack) -> None:
    ports, banner, data_dir, _ = stack
    assert "operator" in banner and "demo" in banner
    # The console's address comes first, and it serves its pages and scripts itself.
    lines = banner.splitlines()
    first = lines[lines.index("Caseflow is running.") + 1]
    assert first.strip().startswith("Console:"), banner
    site = f"http://127.0.0.1:{ports['api']}"
    # A fresh database gets a demo morning, played through the API: something for each role.
    assert "demo morning: 7 requests" in banner, banner
    with httpx.Client(base_url=site, timeout=30, follow_redirects=True) as browser:
        login = browser.get("/")
        assert login.url.path == "/login" and 'name="password"' in login.text
        script = browser.get("/static/vendor/htmx.min.js")
        assert script.status_code == 200 and "htmx" in script.text[:2000]
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
        # The demo's web lead: its callback is due within ten minutes, day or night, so the
        # manager's task list shows an overdue task soon after start.
        sales = http.post("/auth/token", data={"username": "manager", "password": "demo"})
        manager = {"Authorization": f"Bearer {sales.json()['access_token']}"}
        tasks = http.get("/tasks", params={"assignee": "me"}, headers=manager).json()["items"]
        callback = next(t for t in tasks if t["title"] == "Перезвонить по заявке")
        due = datetime.fromisoformat(callback["due_at"])
        assert due - datetime.now(UTC) <= timedelta(minutes=10), callback
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

    # E-mail in: a customer writes to the stack's mail gateway and a case appears.
    subject = f"Письмо в Caseflow {time.time_ns()}"
    with smtplib.SMTP("127.0.0.1", ports["mail-in"]) as smtp:
        smtp.sendmail(
            "writer@customer.example",
            ["support@caseflow.local"],
            f"From: writer@customer.example\r\nTo: support@caseflow.local\r\n"
            f"Subject: {subject}\r\nMessage-ID: <{time.time_ns()}@customer.example>\r\n\r\n"
            "Помогите, пожалуйста\r\n".encode(),
        )
    with httpx.Client(base_url=base, timeout=30) as http:
        token = http.post("/auth/token", data={"username": "admin", "password": "demo"})
        admin = {"Authorization": f"Bearer {token.json()['access_token']}"}
        for _ in range(100):
            found = http.get("/requests", params={"q": subject}, headers=admin).json()["items"]
            if found:
                break
            time.sleep(0.2)
        assert [(r["channel"], r["subject"]) for r in found] == [("email", subject)]
    assert (data_dir / "caseflow.platform.db").exists() and (data_dir / "temporal.db").exists()

    # The catcher's mail, readable: `caseflow mail list` and `show` decode what went out.
    def caseflow(*args: str) -> str:
        command = [sys.executable, "-m", "cli", "mail", *args, "--dir"]
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

    # The demo's caller whose old mailbox is gone: the supervisor sees that e-mail failed.
    with httpx.Client(base_url=base, timeout=30) as http:
        token = http.post("/auth/token", data={"username": "supervisor", "password": "demo"})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        failed: list[dict] = []
        for _ in range(100):
            failed = http.get("/supervisor/notifications", headers=headers).json()["items"]
            if failed:
                break
            time.sleep(0.2)
        assert {n["recipient"] for n in failed} == {"petr@old-provider.invalid"}, failed


def test_make_run_brings_a_killed_worker_back(stack) -> None:
    """`caseflow dev` supervises its children: a worker killed outright is started again,
    and intake works again without restarting the stack."""
    ports, _, data_dir, process = stack
    base = f"http://127.0.0.1:{ports['api']}"
    pids = json.loads((data_dir / "pids.json").read_text())
    os.kill(pids["worker"], signal.SIGKILL)
    line = ""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "worker started again" not in line:
        line = process.stdout.readline()
    assert "worker started again" in line
    assert json.loads((data_dir / "pids.json").read_text())["worker"] != pids["worker"]
    with httpx.Client(base_url=base, timeout=30) as http:
        for _ in range(120):  # ready again once the new worker polls
            if http.get("/readyz").status_code == 200:
                break
            time.sleep(0.25)
        assert http.get("/readyz").status_code == 200
        token = http.post(
            "/api/v1/auth/token", data={"username": "operator", "password": "demo"}
        ).json()["access_token"]
        body = {
            "customer_id": "51ef48c8-8950-5418-a733-c1ef1bf9fac4",  # the demo company
            "channel": "phone",
            "topic": "consultation",
            "subject": "После перезапуска",
            "description": "Обращение после того, как воркер упал",
        }
        created = http.post(
            "/api/v1/requests", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert created.status_code == 201, created.text
        assert created.json()["assignee"]


def test_killing_make_run_outright_takes_its_children_along(stack) -> None:
    _, _, data_dir, process = stack
    children = json.loads((data_dir / "pids.json").read_text())
    process.kill()  # SIGKILL: no chance to stop anything itself
    process.wait(timeout=10)
    deadline = time.monotonic() + 30
    left = dict(children)
    while left and time.monotonic() < deadline:
        left = {name: pid for name, pid in left.items() if alive(pid)}
        time.sleep(0.2)
    assert left == {}, f"still running after caseflow dev was killed: {left}"


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie waiting for its reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"
