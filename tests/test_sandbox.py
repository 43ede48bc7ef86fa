"""The workflows' sandbox lets a workflow use the pure core and name activities, and
refuses, when the worker starts, a workflow that imports database or SMTP code — whether
it then runs every workflow (the tests' workers) or only checks them at start (`caseflow
worker`'s default, CASEFLOW_WORKFLOW_SANDBOX=at-start)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from temporalio.worker import Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError

from caseflow.models import RequestEvent
from caseflow.requests.lifecycle import State
from tests.conftest import worker_for
from tests.helpers import act, open_request
from tests.sandbox_cases.passed_store import PassesAStore
from tests.sandbox_cases.smtp_import import ImportsSmtp
from tests.sandbox_cases.store_import import ImportsAStore
from worker import WORKFLOWS
from workflows.sandbox import SANDBOX, CheckedAtStart, forbidden


def test_stores_and_io_libraries_are_forbidden_and_the_pure_core_is_not() -> None:
    names = set(forbidden())
    assert {"sqlalchemy", "aiosmtplib", "caseflow.platform.db", "caseflow.requests.store"} <= names
    assert {"caseflow.sla.ledger", "caseflow.mail.smtp", "caseflow.routing.decide"} <= names
    assert not names & {"caseflow.payloads", "caseflow.requests.lifecycle", "caseflow.sla.terms"}


async def test_every_workflow_of_caseflow_loads_in_the_sandbox(dev_env) -> None:
    Worker(
        dev_env.client,
        task_queue=f"sandbox-{uuid.uuid4().hex}",
        workflows=WORKFLOWS,
        workflow_runner=SANDBOX,
    )


@pytest.mark.parametrize("runner", [SANDBOX, CheckedAtStart()], ids=["every-run", "at-start"])
@pytest.mark.parametrize("mistake", [ImportsAStore, PassesAStore, ImportsSmtp])
async def test_a_workflow_importing_io_code_is_refused_at_start(
    dev_env, mistake: type, runner: WorkflowRunner
) -> None:
    with pytest.raises(RuntimeError, match="Failed validating workflow") as refused:
        Worker(
            dev_env.client,
            task_queue=f"sandbox-{uuid.uuid4().hex}",
            workflows=[mistake],
            workflow_runner=runner,
        )
    cause = refused.value.__cause__
    assert isinstance(cause, RestrictedWorkflowAccessError), repr(cause)
    refused_name = str(cause).removeprefix("Cannot access ").split(" from inside")[0]
    assert refused_name.startswith(("caseflow.", "sqlalchemy", "aiosmtplib")), str(cause)


def test_a_worker_compiles_the_workflow_modules_the_sandbox_loads_for_each_run(
    monkeypatch,
) -> None:
    """The sandbox imports the workflow modules anew for every workflow: without cached
    bytecode (PYTHONDONTWRITEBYTECODE) each import compiled them from source. Building a
    worker leaves bytecode that the importer takes instead."""
    import importlib.util
    import shutil
    from pathlib import Path

    import workflows.request as request_module
    from workflows.sandbox import compile_workflows

    source = Path(request_module.__file__)
    cached = Path(importlib.util.cache_from_source(str(source)))
    shutil.rmtree(cached.parent, ignore_errors=True)
    assert not cached.exists()
    assert compile_workflows()
    assert cached.exists()
    loader = importlib.machinery.SourceFileLoader("workflows.request", str(source))
    calls = []
    monkeypatch.setattr(loader, "source_to_code", lambda *a, **k: calls.append(a))
    loader.get_code("workflows.request")
    assert calls == []  # read from the bytecode, not compiled again


async def test_a_request_lives_its_life_with_the_sandbox_checking_at_start_only(
    time_skipping_env, sessions, rules
) -> None:
    """`caseflow worker` as shipped: the workflows were checked in the sandbox when the
    worker was built, and a request runs natively from intake to close, its steps in the
    read model."""
    queue = f"native-{uuid.uuid4().hex}"
    client = time_skipping_env.client
    async with worker_for(client, queue, sessions, rules, sandbox_every_run=False):
        handle, view = await open_request(client, queue)
        assert view.state == State.ASSIGNED and view.number
        await act(handle, "start")
        await act(handle, "resolve", text="готово")
        assert (await act(handle, "close")).state == State.CLOSED
        assert (await handle.result()).state == State.CLOSED
    async with sessions() as session:
        actions = await session.scalars(
            select(RequestEvent.action)
            .where(RequestEvent.workflow_id == handle.id)
            .order_by(RequestEvent.seq)
        )
        assert actions.all() == ["register", "assign", "start", "resolve", "close"]
