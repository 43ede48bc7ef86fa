"""The workflows' sandbox: what a workflow may import, decided here.

Passed through (imported once, outside the sandbox): the pure core the workflows use and
the activities' definitions (workflows name them in typed calls; their bodies run only in
activity workers). Forbidden: every other module of the core (stores, database, SMTP) and
the I/O libraries, so a workflow that imports one by mistake fails when the worker starts,
not at some replay later. The workflow modules themselves are loaded in each sandbox.
"""

from __future__ import annotations

import dataclasses
import pkgutil
from collections.abc import Sequence

from temporalio import workflow
from temporalio.worker import (
    UnsandboxedWorkflowRunner,
    WorkflowInstance,
    WorkflowInstanceDetails,
    WorkflowRunner,
)
from temporalio.worker.workflow_sandbox import (
    SandboxedWorkflowRunner,
    SandboxMatcher,
    SandboxRestrictions,
)

import caseflow

# Deterministic, no I/O: a workflow may use these.
PURE = (
    "caseflow.payloads",
    "caseflow.customers.merge_terms",
    "caseflow.customers.import_terms",
    "caseflow.customers.trigger_terms",
    "caseflow.requests.lifecycle",
    "caseflow.requests.steps",
    "caseflow.sla.terms",
    "caseflow.sla.calendar",
    "caseflow.deals.gates",
    "caseflow.deals.steps",
    "caseflow.mail.context",
    "caseflow.mail.notices",
    "caseflow.mail.mailbox_terms",
    "caseflow.tickets.connectors",
)
DEFINITIONS = ("activities",)
IO_LIBRARIES = ("sqlalchemy", "psycopg", "asyncpg", "aiosmtplib", "httpx", "jinja2", "alembic")


def core_modules() -> list[str]:
    """Every module of the core package (packages included)."""
    found = pkgutil.walk_packages(caseflow.__path__, prefix="caseflow.")
    return sorted(module.name for module in found if ".migrations" not in module.name)


def forbidden() -> list[str]:
    """The I/O libraries and every module of the core that is not pure (nor a package
    holding a pure module)."""
    parents = {pure.rsplit(".", i)[0] for pure in PURE for i in range(1, pure.count("."))}
    allowed = set(PURE) | parents
    return [*IO_LIBRARIES, *(name for name in core_modules() if name not in allowed)]


def matcher(names: list[str]) -> SandboxMatcher:
    result = SandboxMatcher.none
    for name in names:
        *path, leaf = name.split(".")
        result = result | SandboxMatcher.nested_child(path, SandboxMatcher(access={leaf}))
    return result


def restrictions() -> SandboxRestrictions:
    default = SandboxRestrictions.default
    return dataclasses.replace(
        default.with_passthrough_modules(*PURE, *DEFINITIONS, "pydantic", "pydantic_core"),
        invalid_modules=default.invalid_modules | matcher(forbidden()),
        # `from caseflow.sla import ledger` names the package, not the module: refused
        # as a member of its package, even inside `imports_passed_through()`.
        invalid_module_members=default.invalid_module_members | matcher(forbidden()),
    )


SANDBOX = SandboxedWorkflowRunner(restrictions=restrictions())


@dataclasses.dataclass(frozen=True)
class CheckedAtStart(WorkflowRunner):
    """Each workflow is loaded in the sandbox once, when the worker starts — a workflow
    importing a store or an I/O library refuses the worker, exactly as under SANDBOX — and
    its runs execute natively.

    The sandbox loads a workflow's module and inspects its class afresh for every run it
    starts and every replay of an evicted one (3.8 ms for a RequestWorkflow), and wraps
    each activation: a fifth of a busy worker's time and 60 KiB a cached run (py-spy on
    `bench/sla.py`). What it catches at run time (a clock, randomness or a file read
    inside a workflow) is caught by the test suite, whose workers run every workflow in
    the sandbox (`CASEFLOW_WORKFLOW_SANDBOX=every-run`), and by the replay tests."""

    sandbox: SandboxedWorkflowRunner = SANDBOX
    native: UnsandboxedWorkflowRunner = dataclasses.field(default_factory=UnsandboxedWorkflowRunner)

    def prepare_workflow(self, defn: workflow._Definition) -> None:
        self.sandbox.prepare_workflow(defn)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return self.native.create_instance(det)

    def set_worker_level_failure_exception_types(
        self, types: Sequence[type[BaseException]]
    ) -> None:
        self.sandbox.set_worker_level_failure_exception_types(types)
        self.native.set_worker_level_failure_exception_types(types)


def runner(every_run: bool) -> WorkflowRunner:
    """The sandbox for every run (the test suite's workers), or only at start."""
    return SANDBOX if every_run else CheckedAtStart()


def compile_workflows() -> bool:
    """The sandbox loads the workflow modules afresh for every workflow it starts: from their
    cached bytecode when there is one, else compiled from source each time. Where nothing
    writes bytecode (PYTHONDONTWRITEBYTECODE, as many container images and this project's
    machines set), compiling was a fifth of a busy worker's time (py-spy on bench/intake.py).
    Compiled here once, when a worker is built; False if the directory cannot be written
    (then each start compiles, as before)."""
    import compileall
    from pathlib import Path

    return bool(compileall.compile_dir(Path(__file__).parent, quiet=2, workers=1))
