"""The workflows' sandbox lets a workflow use the pure core and name activities, and
refuses, when the worker starts, a workflow that imports database or SMTP code."""

from __future__ import annotations

import uuid

import pytest
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError

from tests.sandbox_cases.passed_store import PassesAStore
from tests.sandbox_cases.smtp_import import ImportsSmtp
from tests.sandbox_cases.store_import import ImportsAStore
from worker import WORKFLOWS
from workflows.sandbox import SANDBOX, forbidden


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


@pytest.mark.parametrize("mistake", [ImportsAStore, PassesAStore, ImportsSmtp])
async def test_a_workflow_importing_io_code_is_refused_at_start(dev_env, mistake: type) -> None:
    with pytest.raises(RuntimeError, match="Failed validating workflow") as refused:
        Worker(
            dev_env.client,
            task_queue=f"sandbox-{uuid.uuid4().hex}",
            workflows=[mistake],
            workflow_runner=SANDBOX,
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
