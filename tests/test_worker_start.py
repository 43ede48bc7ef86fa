"""The worker outlives a Temporal that is not up yet: it waits with backoff instead of
exiting, starts polling when the server comes, and its health file says whether it lives
(`caseflow worker-alive`, what the compose health check runs)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from caseflow.platform.temporal import dev_server_path
from cli.devstack import wait_for_port
from tests.conftest import free_port


def alive(path: Path, within: float) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "cli", "worker-alive", "--file", str(path)]
    return subprocess.run([*command, "--within", str(within)], capture_output=True, text=True)


def test_the_worker_waits_for_temporal_and_says_when_it_lives(settings, engine, tmp_path) -> None:
    """(`engine`: the test database is migrated and seeded.)"""
    port, health = free_port(), tmp_path / "worker.alive"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEFLOW_")}
    env |= {
        "CASEFLOW_DATABASE_URL": settings.database_url,
        "CASEFLOW_TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
        "CASEFLOW_TASK_QUEUE": f"start-{uuid.uuid4().hex}",
        "CASEFLOW_WORKER_HEALTH_FILE": str(health),
        "CASEFLOW_NOTIFICATIONS": "false",
    }
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "cli", "worker"], env=env, stdout=out, stderr=out
        )
    server = None
    try:
        time.sleep(6)  # it used to exit with 1 after about 3 s
        assert worker.poll() is None, log.read_text()
        assert "not reachable yet" in log.read_text()
        assert alive(health, 30).returncode == 1  # not polling: not healthy

        server = subprocess.Popen(
            [dev_server_path(), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
             "--port", str(port), "--log-level", "warn"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(port)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and alive(health, 30).returncode != 0:
            time.sleep(0.5)
        assert alive(health, 30).returncode == 0, log.read_text()
        assert "worker started" in log.read_text()
    finally:
        worker.kill()
        worker.wait(timeout=30)
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    time.sleep(1.5)
    stale = alive(health, 1)
    assert stale.returncode == 1 and "worker silent" in stale.stderr
