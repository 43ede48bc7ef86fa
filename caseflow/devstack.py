"""`caseflow dev`: the whole system on one machine, each part a child process.

Temporal dev server (SQLite file, with its UI), an SMTP catcher, the worker and the API.
Ctrl-C (or SIGTERM) stops every child, newest first, and waits for each.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx

from caseflow import db as database
from caseflow.demo import DEMO_PASSWORD, USERS, seed
from caseflow.temporal import dev_server_path


def wait_for_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on port {port} after {timeout:.0f}s")


@dataclass
class DevStack:
    data_dir: Path
    api_port: int = 8000
    temporal_port: int = 7233
    ui_port: int = 8233
    smtp_port: int = 8025
    children: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    stopping: bool = False

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault(
            "CASEFLOW_DATABASE_URL", f"sqlite+aiosqlite:///{self.data_dir / 'caseflow.db'}"
        )
        env.update(
            {
                "CASEFLOW_TEMPORAL_ADDRESS": f"127.0.0.1:{self.temporal_port}",
                "CASEFLOW_SMTP_HOST": "127.0.0.1",
                "CASEFLOW_SMTP_PORT": str(self.smtp_port),
                "CASEFLOW_API_PORT": str(self.api_port),
            }
        )
        return env

    def spawn(self, name: str, args: list[str]) -> None:
        log = open(self.data_dir / f"{name}.log", "ab")
        process = subprocess.Popen(
            args, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.children.append((name, process))

    def prepare_database(self) -> None:
        from caseflow.settings import Settings

        settings = Settings(database_url=self.env["CASEFLOW_DATABASE_URL"])
        database.upgrade(settings.sync_database_url)

        async def load() -> None:
            engine = database.make_engine(settings.database_url)
            try:
                async with database.transaction(database.make_sessionmaker(engine)) as session:
                    await seed(session)
            finally:
                await engine.dispose()

        asyncio.run(load())

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.prepare_database()
        self.spawn(
            "temporal",
            [
                dev_server_path(),
                "server",
                "start-dev",
                "--ip",
                "127.0.0.1",
                "--port",
                str(self.temporal_port),
                "--ui-port",
                str(self.ui_port),
                "--db-filename",
                str(self.data_dir / "temporal.db"),
                "--log-level",
                "warn",
            ],
        )
        catcher = ["-m", "caseflow.mail_catcher", "--port", str(self.smtp_port)]
        self.spawn("smtp", [sys.executable, *catcher, "--dir", str(self.data_dir / "mail")])
        wait_for_port(self.temporal_port)
        self.spawn("worker", [sys.executable, "-m", "caseflow.cli", "worker"])
        self.spawn(
            "api", [sys.executable, "-m", "caseflow.cli", "api", "--port", str(self.api_port)]
        )
        self.wait_ready()

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.api_port}/readyz"
        while time.monotonic() < deadline:
            self.check_children()
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"the API did not become ready; see {self.data_dir}/*.log")

    def check_children(self) -> None:
        for name, process in self.children:
            if process.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {process.returncode}; "
                    f"see {self.data_dir / (name + '.log')}"
                )

    def banner(self) -> str:
        users = ", ".join(u[0] for u in USERS)
        return "\n".join(
            [
                "Caseflow is running.",
                f"  API:          http://127.0.0.1:{self.api_port}/api/v1  "
                f"(docs: http://127.0.0.1:{self.api_port}/docs)",
                f"  Temporal UI:  http://127.0.0.1:{self.ui_port}",
                f"  Temporal:     127.0.0.1:{self.temporal_port}",
                f"  Mail catcher: smtp://127.0.0.1:{self.smtp_port}, "
                "read it: .venv/bin/caseflow mail list (show N)",
                f"  Data and logs: {self.data_dir}",
                f"  Demo logins (password '{DEMO_PASSWORD}'): {users}",
                "Press Ctrl-C to stop.",
            ]
        )

    def stop(self, *_: object) -> None:
        self.stopping = True
        for _name, process in reversed(self.children):
            if process.poll() is None:
                process.terminate()
        for _name, process in reversed(self.children):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def run(self) -> int:
        def on_signal(signum: int, frame: FrameType | None) -> None:
            self.stopping = True

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        try:
            self.start()
            print(self.banner(), flush=True)
            while not self.stopping:
                self.check_children()
                time.sleep(0.5)
            return 0
        except (RuntimeError, TimeoutError) as exc:
            if self.stopping:
                return 0
            print(f"caseflow dev: {exc}", file=sys.stderr, flush=True)
            return 1
        finally:
            self.stop()
            print("Caseflow stopped.", flush=True)
