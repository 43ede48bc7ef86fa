"""Histories of finished workflows replay with today's code: a non-deterministic change fails here.

tests/histories/ holds histories recorded with earlier releases; the tests of this run
add the histories they finished (captured in conftest).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.conftest import FINISHED_HISTORIES
from worker import WORKFLOWS

RECORDED = sorted((Path(__file__).parent / "histories").glob("*.json"))


def replayer() -> Replayer:
    return Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)


@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
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
