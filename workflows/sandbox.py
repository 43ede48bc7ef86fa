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
