"""Histories of finished workflows replay with today's code: a non-deterministic change fails here.

tests/histories/<release>/ holds histories recorded with earlier releases (one folder per
workflow change, named after its patch); the tests of this run add the histories they
finished (captured in conftest).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.conftest import FINISHED_HISTORIES
from worker import WORKFLOWS
from workflows.deal import TASK_CLOSERS
from workflows.mailbox_poller import ROUND_CUT_PATCH
from workflows.notifier import PER_REQUEST_PATCH
from workflows.request import (
    LEDGER_AT_REGISTRATION_PATCH,
    LEDGER_PATCH,
    LINE_CHANGE_PATCH,
    STEP_PATCH,
    TAKE_RULES_PATCH,
)

HISTORIES = Path(__file__).parent / "histories"
RECORDED = sorted(HISTORIES.glob("*/*.json"))


def replayer() -> Replayer:
    return Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)


@pytest.mark.parametrize("path", RECORDED, ids=[f"{p.parent.name}/{p.stem}" for p in RECORDED])
async def test_recorded_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(f"request-{path.stem}", path.read_text())
    result = await replayer().replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


async def test_histories_finished_in_this_run_replay() -> None:
    if not FINISHED_HISTORIES:
        pytest.skip("run with the workflow tests: they capture the histories")
    failures = {}
    for history in FINISHED_HISTORIES:
        result = await replayer().replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            failures[history.workflow_id] = str(result.replay_failure)
    assert failures == {}


def test_recorded_histories_exist() -> None:
    assert len(RECORDED) >= 3, "tests/histories/ should hold histories of released code"


def patches(path: Path) -> set[str]:
    """The patch ids a recorded history went through (its patch markers)."""
    history = WorkflowHistory.from_json("any", path.read_text())
    found = set()
    for event in history.events:
        details = event.marker_recorded_event_attributes.details
        if "patch-data" in details:
            found.add(json.loads(details["patch-data"].payloads[0].data)["id"])
    return found


@pytest.mark.parametrize(
    "patch",
    [LEDGER_PATCH, LEDGER_AT_REGISTRATION_PATCH, LINE_CHANGE_PATCH, TAKE_RULES_PATCH, STEP_PATCH],
)
def test_both_sides_of_each_patch_are_recorded(patch: str) -> None:
    """A patch is only proven if histories from before it (old path) and after it replay."""
    requests = [
        p
        for p in RECORDED
        if p.parent.name not in ("notifier", "digest-per-request")
        and not p.parent.name.startswith(("deal", "mailbox"))
    ]
    with_marker = {p for p in requests if patch in patches(p)}
    assert with_marker and set(requests) - with_marker


def test_both_sides_of_the_deal_task_patch_are_recorded() -> None:
    deals = [p for p in RECORDED if p.parent.name.startswith("deal")]
    with_marker = {p for p in deals if TASK_CLOSERS in patches(p)}
    assert with_marker and set(deals) - with_marker


def test_both_sides_of_the_digest_patch_are_recorded() -> None:
    notifiers = [p for p in RECORDED if p.parent.name in ("notifier", "digest-per-request")]
    with_marker = {p for p in notifiers if PER_REQUEST_PATCH in patches(p)}
    assert with_marker and set(notifiers) - with_marker


def test_both_sides_of_the_mailbox_round_cut_patch_are_recorded() -> None:
    pollers = [p for p in RECORDED if p.parent.name.startswith("mailbox")]
    with_marker = {p for p in pollers if ROUND_CUT_PATCH in patches(p)}
    assert with_marker and set(pollers) - with_marker
