"""Real servers for the tests: a fresh PostgreSQL database, Temporal test and dev servers."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
import pytest_asyncio
from fastapi import FastAPI
from hypothesis import settings as hypothesis_settings
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

import worker as worker_module
from api.app import create_app
from caseflow.customers.segments import load as load_catalogue
from caseflow.customers.survivorship import load as load_survivorship
from caseflow.deals.pipelines import load as load_pipelines
from caseflow.models import User
from caseflow.platform import db as database
from caseflow.platform.settings import ROOT, Settings
from caseflow.platform.temporal import dev_server_path, test_server_path
from caseflow.platform.workers import heard_from, heartbeat
from caseflow.routing.rulebook import RuleHolder
from caseflow.sla.policies import SlaBook
from caseflow.sla.policies import load as load_sla
from caseflow.tickets.connectors import ConnectorConfig, Ticketing
from cli.demo import seed
from tests import otrs_double, rt_peer
from tests.mailbox import Mailbox

# Calendar walks take longer on a busy CI machine; a slow example is not a failure.
hypothesis_settings.register_profile("caseflow", deadline=None)
hypothesis_settings.load_profile("caseflow")

METRICS_TOKEN = "scraper-token-for-tests"
PG_ADMIN_URL = os.environ.get("CASEFLOW_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")

# Histories of workflows the tests finished; the replay test runs them through today's code.
FINISHED_HISTORIES: list[WorkflowHistory] = []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pg_url(name: str, driver: str = "psycopg") -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", f"postgresql+{driver}://")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def make_pg_database() -> Iterator[object]:
    """Creates throw-away databases; every one is dropped when the session ends."""
    created: list[str] = []

    def create() -> str:
        name = f"caseflow_test_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return name

    yield create
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        for name in created:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_database(make_pg_database) -> str:
    name = make_pg_database()
    database.upgrade(pg_url(name))
    return name


@pytest.fixture(scope="session")
def settings(pg_database: str) -> Settings:
    return Settings(
        database_url=pg_url(pg_database),
        task_queue=f"caseflow-{uuid.uuid4().hex}",
        routing_rules_dir=ROOT / "routing_rules",
        metrics_token=METRICS_TOKEN,
        # Tests write SLA ledgers and read forecasts right after: no cached forecast.
        forecast_ttl=timedelta(0),
    )


@pytest_asyncio.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = database.make_engine(settings.database_url)
    async with database.transaction(database.make_sessionmaker(engine)) as session:
        await seed(session)
        # Hundreds of tests open hotline requests and many leave them open: the demo
        # operators take all of them (capacity itself is tested with teams of its own).
        await session.execute(
            update(User).where(User.team_code == "hotline").values(capacity=TEST_CAPACITY)
        )
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return database.make_sessionmaker(engine)


@pytest.fixture(scope="session")
def rules() -> RuleHolder:
    return RuleHolder(ROOT / "routing_rules")


@pytest_asyncio.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=test_server_path(), data_converter=pydantic_data_converter
    )
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=dev_server_path(),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
        ui=False,
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    """The SMTP server the dev worker sends to; tests read what arrived."""
    box = Mailbox(free_port())
    box.start()
    yield box
    box.stop()


# Long enough that a loaded machine still posts both steps of a registration within it.
DIGEST_WINDOW = timedelta(seconds=3)
TEST_CAPACITY = 10_000
PIPELINES = load_pipelines(
    ROOT / "routing_rules" / "pipelines", load_sla(ROOT / "routing_rules" / "sla")
)


# Connectors the worker and the API share; the fixtures of the external systems add theirs.
TICKETING = Ticketing([])
TESTS_SLA = Path(__file__).resolve().parent / "sla"
OTRS_TOKEN = "otrs-webhook-token-for-tests"


def otrs_config(base_url: str) -> ConnectorConfig:
    return ConnectorConfig(
        name="otrs",
        kind="otrs",
        base_url=base_url,
        username=otrs_double.USER,
        password=otrs_double.PASSWORD,
        integration_user=otrs_double.USER,
        webhook_token=OTRS_TOKEN,
        queues=["Billing", "Legal"],
        topic_queues={"complaint": "Legal"},
        statuses={
            "new": "open",
            "open": "open",
            "pending reminder": "pending",
            "pending auto": "pending",
            "closed": "resolved",
            "merged": "rejected",
            "removed": "rejected",
        },
        closure={"complaint": "close_case"},
        close_status="closed successful",
        timeout=1.0,
    )


@pytest.fixture(scope="session")
def otrs() -> Iterator[otrs_double.OtrsDouble]:
    """The OTRS contract double on a real port, configured as connector `otrs`."""
    double = otrs_double.OtrsDouble(free_port())
    double.start()
    TICKETING.connectors["otrs"] = otrs_config(double.base_url)
    yield double
    TICKETING.connectors.pop("otrs", None)
    double.stop()


RT_WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"caseflow-rt-webhook-secret-32byt").decode()


@pytest_asyncio.fixture(scope="session")
async def rt(http, dev_env, settings) -> AsyncIterator[rt_peer.Rt]:
    """A real Request Tracker 5 (`make test` installs it: scripts/ensure-rt5), its connector
    `rt`, and the poller workflow reading it every second."""
    if not rt_peer.installed():
        pytest.fail("Request Tracker 5 is not installed; `make test` installs it (scripts/rt5)")
    peer = await asyncio.to_thread(rt_peer.start, free_port())
    TICKETING.connectors["rt"] = ConnectorConfig(
        name="rt",
        kind="request_tracker",
        base_url=peer.base,
        token=peer.token,
        integration_user="root",
        webhook_secret=RT_WEBHOOK_SECRET,
        poll_every=timedelta(milliseconds=500),
        queues=["General"],
        statuses={
            "new": "open",
            "open": "open",
            "stalled": "pending",
            "resolved": "resolved",
            "rejected": "rejected",
            "deleted": "rejected",
        },
        timeout=30.0,
    )
    pollers = await worker_module.start_pollers(dev_env.client, settings.task_queue, TICKETING)
    yield peer
    for workflow_id in pollers:
        await dev_env.client.get_workflow_handle(workflow_id).terminate("tests are over")
    TICKETING.connectors.pop("rt", None)
    await asyncio.to_thread(rt_peer.stop)


def session_sla(directory: Path) -> SlaBook:
    """The shipped SLA policies, with the tests' own in front of them (`tests/sla/`: a
    policy of seconds for a made-up region, so a browser sees a breach happen)."""
    directory.mkdir(parents=True, exist_ok=True)
    for source in [*(ROOT / "routing_rules" / "sla").glob("*.yaml"), *TESTS_SLA.glob("*.yaml")]:
        (directory / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    return load_sla(directory)


def worker_for(
    client: Client,
    task_queue: str,
    sessions: async_sessionmaker[AsyncSession],
    rules: RuleHolder,
    *,
    sla: SlaBook | None = None,
    mail: worker_module.Mail | None = None,
    sandbox_every_run: bool = True,
) -> Worker:
    """A worker as `caseflow worker` builds it, on the shipped SLA policies (or `sla`), the
    tests' pipelines and connectors; e-mail only with `mail`. Every workflow run in the
    sandbox unless told otherwise: the suite catches a workflow reading a clock."""
    return worker_module.build_worker(
        client,
        task_queue=task_queue,
        sessions=sessions,
        rules=rules,
        sla=sla or load_sla(ROOT / "routing_rules" / "sla"),
        mail=mail,
        pipelines=PIPELINES,
        ticketing=TICKETING,
        survivorship=load_survivorship(ROOT / "routing_rules" / "profile" / "survivorship.yaml"),
        catalogue=load_catalogue(ROOT / "routing_rules" / "profile"),
        sandbox_every_run=sandbox_every_run,
    )


def mail_for(port: int) -> worker_module.Mail:
    settings = Settings(smtp_port=port, digest_window=DIGEST_WINDOW)
    return worker_module.Mail.of(settings)


@pytest_asyncio.fixture(scope="session")
async def dev_worker(
    tmp_path_factory: pytest.TempPathFactory,
    dev_env: WorkflowEnvironment,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    rules: RuleHolder,
    mailbox: Mailbox,
) -> AsyncIterator[Worker]:
    worker = worker_for(
        dev_env.client,
        settings.task_queue,
        sessions,
        rules,
        sla=session_sla(tmp_path_factory.mktemp("sla")),
        mail=mail_for(mailbox.port),
    )
    task = asyncio.create_task(worker.run())
    # Its signs of life, as `caseflow worker` gives them: readiness looks for them.
    alive = asyncio.create_task(heartbeat(sessions, worker, settings.task_queue, every=1.0))
    for _ in range(200):  # ready (as /readyz sees it) once it gave its first sign of life
        async with sessions() as session:
            if await heard_from(session, settings.task_queue, timedelta(seconds=5)):
                break
        await asyncio.sleep(0.05)
    yield worker
    alive.cancel()
    await asyncio.gather(alive, return_exceptions=True)
    await worker.shutdown()
    await task


@pytest_asyncio.fixture(scope="session")
async def caseflow_app(settings, engine, dev_env, dev_worker) -> AsyncIterator[FastAPI]:
    """The app `caseflow api` serves (API and console), started on the test stack."""
    app = create_app(settings, temporal=dev_env.client, engine=engine, ticketing=TICKETING)
    async with app.router.lifespan_context(app):
        yield app


@pytest_asyncio.fixture(scope="session")
async def http(caseflow_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=caseflow_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://caseflow") as client:
        yield client


@pytest_asyncio.fixture(scope="session")
async def tokens(http: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    result = {}
    for name in (
        "operator",
        "operator-b",
        "agent2",
        "agent2-b2b",
        "expert3",
        "supervisor",
        "manager",
        "manager-b",
        "admin",
    ):
        answer = await http.post("/api/v1/auth/token", data={"username": name, "password": "demo"})
        assert answer.status_code == 200, answer.text
        result[name] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    return result


# One worker for the whole session: requests a test leaves open keep their timers (SLA,
# holds), and the time-skipping server only skips time while every due task has a worker —
# a worker per module would leave the earlier modules' timers with nobody to run them.
@pytest_asyncio.fixture(scope="session")
async def env(time_skipping_env: WorkflowEnvironment, sessions, rules) -> AsyncIterator[tuple]:
    task_queue = f"wf-{uuid.uuid4().hex}"
    worker = worker_for(time_skipping_env.client, task_queue, sessions, rules)
    async with worker:
        yield time_skipping_env, task_queue


async def capture_history(client: Client, workflow_id: str) -> None:
    """Keep a finished workflow's history for the replay test.

    With CASEFLOW_SAVE_HISTORIES=DIR the history is also written there, which is how the
    files under tests/histories/ (histories of released code) were made.
    """
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    FINISHED_HISTORIES.append(history)
    target = os.environ.get("CASEFLOW_SAVE_HISTORIES")
    if target:
        test = os.environ.get("PYTEST_CURRENT_TEST", "test").split("::")[-1].split(" ")[0]
        Path(target, f"{test}.json").write_text(history.to_json())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Replay tests last: they replay the histories the workflow tests finished."""
    items.sort(key=lambda item: item.nodeid.startswith("tests/test_replay.py"))
