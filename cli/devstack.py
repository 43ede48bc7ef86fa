"""`caseflow dev`: the whole system on one machine, each part a child process.

Temporal dev server (SQLite file, with its UI), an SMTP catcher, the worker and the API.
It supervises them: a child that dies is started again after a pause (1 s, doubling to
30 s), its death logged; the stack gives up only when a child keeps dying (5 times within a
minute). Ctrl-C (or SIGTERM) stops every child, newest first, and waits for each; children
die with the stack even if it is killed outright (Linux: PR_SET_PDEATHSIG). `pids.json` in
the data folder says which process is which.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx

from caseflow.platform import db as database
from caseflow.platform.temporal import dev_server_path
from cli.demo import DEMO_PASSWORD, USERS, seed
from cli.demo_activity import play


def wait_for_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on port {port} after {timeout:.0f}s")


FIRST_PAUSE, LONGEST_PAUSE = 1.0, 30.0
KEEPS_DYING = (5, 60.0)  # this many deaths within so many seconds: give up


def _die_with_parent() -> None:
    """In the child, before exec: be sent SIGTERM when `caseflow dev` dies, however."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Child:
    name: str
    args: list[str]
    process: subprocess.Popen[bytes]
    deaths: deque[float] = field(default_factory=lambda: deque(maxlen=KEEPS_DYING[0]))
    pause: float = FIRST_PAUSE
    restart_at: float | None = None


@dataclass
class DevStack:
    data_dir: Path
    api_port: int = 8000
    temporal_port: int = 7233
    ui_port: int = 8233
    smtp_port: int = 8025
    mail_in_port: int = 2525  # the mail gateway: customers' e-mail in, over SMTP
    demo_activity: bool = True  # play a working morning on a fresh database
    children: list[Child] = field(default_factory=list)
    stopping: bool = False

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault(
            "CASEFLOW_DATABASE_URL", f"sqlite+aiosqlite:///{self.data_dir / 'caseflow.platform.db'}"
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

    def launch(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.data_dir / f"{name}.log", "ab")
        env = {**self.env, "PYTHONUNBUFFERED": "1"}  # each line in the log as it is written
        return subprocess.Popen(
            args, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
        )

    def spawn(self, name: str, args: list[str]) -> None:
        self.children.append(Child(name, args, self.launch(name, args)))
        self.write_pids()

    def write_pids(self) -> None:
        pids = {child.name: child.process.pid for child in self.children}
        (self.data_dir / "pids.json").write_text(json.dumps(pids))

    def say(self, text: str) -> None:
        print(f"caseflow dev: {text}", flush=True)

    def prepare_database(self) -> None:
        from caseflow.platform.settings import Settings

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
        catcher = ["-m", "cli.mail_catcher", "--port", str(self.smtp_port)]
        self.spawn("smtp", [sys.executable, *catcher, "--dir", str(self.data_dir / "mail")])
        wait_for_port(self.temporal_port)
        self.spawn("worker", [sys.executable, "-m", "cli", "worker"])
        self.spawn("api", [sys.executable, "-m", "cli", "api", "--port", str(self.api_port)])
        gateway = ["mail-gateway", "--port", str(self.mail_in_port), "--protocol", "smtp"]
        self.spawn("mail-in", [sys.executable, "-m", "cli", *gateway])
        self.wait_ready()
        if self.demo_activity:
            try:  # a demo that cannot play is said, never the end of the stack
                told = play(f"http://127.0.0.1:{self.api_port}/api/v1")
            except (httpx.HTTPError, RuntimeError) as exc:
                told = f"not played ({exc})"
            self.say(f"demo morning: {told}")

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
        """Restart children that died (after their pause); give up on one that keeps dying."""
        if self.stopping:  # Ctrl-C reached the children too: nothing to restart
            return
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.process, child.restart_at = self.launch(child.name, child.args), None
                    self.write_pids()
                    self.say(f"{child.name} started again (pid {child.process.pid})")
                continue
            code = child.process.poll()
            if code is None:
                if child.deaths and now - child.deaths[-1] > KEEPS_DYING[1]:
                    child.pause = FIRST_PAUSE  # up for a while: the next death is forgiven
                continue
            child.deaths.append(now)
            count, window = KEEPS_DYING
            if len(child.deaths) == count and now - child.deaths[0] <= window:
                raise RuntimeError(
                    f"{child.name} keeps dying ({count} times in {window:.0f} s, last with "
                    f"{code}); see {self.data_dir / (child.name + '.log')}"
                )
            self.say(
                f"{child.name} exited with {code}; starting it again in {child.pause:.0f} s "
                f"(see {self.data_dir / (child.name + '.log')})"
            )
            child.restart_at = now + child.pause
            child.pause = min(child.pause * 2, LONGEST_PAUSE)

    def banner(self) -> str:
        users = ", ".join(u[0] for u in USERS)
        return "\n".join(
            [
                "Caseflow is running.",
                f"  Console:      http://127.0.0.1:{self.api_port}/  (sign in with a demo login)",
                f"  API:          http://127.0.0.1:{self.api_port}/api/v1  "
                f"(docs: http://127.0.0.1:{self.api_port}/docs)",
                f"  Temporal UI:  http://127.0.0.1:{self.ui_port}",
                f"  Temporal:     127.0.0.1:{self.temporal_port}",
                f"  Mail catcher: smtp://127.0.0.1:{self.smtp_port}, "
                "read it: .venv/bin/caseflow mail list (show N)",
                f"  Mail in:      smtp://127.0.0.1:{self.mail_in_port} (write to "
                "support@caseflow.local; replies to our e-mails thread into their case)",
                f"  Data and logs: {self.data_dir}",
                f"  Demo logins (password '{DEMO_PASSWORD}'): {users}",
                "Press Ctrl-C to stop.",
            ]
        )

    def stop(self, *_: object) -> None:
        self.stopping = True
        for child in reversed(self.children):
            if child.process.poll() is None:
                child.process.terminate()
        for child in reversed(self.children):
            try:
                child.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()

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
