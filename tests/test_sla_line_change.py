"""What a line change does to the SLA clocks: the first response is answered once per
request; the policy's `on_line_change` says whether resolution continues (the default: the
business time used so far is carried to the next line and across a reopening) or restarts."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest_asyncio

from caseflow.platform.settings import ROOT
from caseflow.requests.lifecycle import Line
from caseflow.sla.policies import load as load_sla
from tests.conftest import capture_history, worker_for
from tests.helpers import EXPERT, act, open_request, request_start
from tests.test_request_workflow import VIP_AGENT, VIP_FACTS


def segments(view) -> list[tuple[int, str, str, bool]]:
    return [(c.segment, c.line, c.kind, c.stopped) for c in view.sla.clocks]


async def walk_across_lines(handle, ts) -> list:
    """Answer at L2, an hour's work, to L3 for two hours, back, resolve, reopen."""
    await act(handle, "start", VIP_AGENT)
    await ts.sleep(timedelta(hours=1))
    on_l3 = await act(handle, "escalate", VIP_AGENT, to_line=Line.L3, reason="эксперт")
    await ts.sleep(timedelta(hours=2))
    back = await act(handle, "return", EXPERT, reason="разъяснено")
    await act(handle, "start", VIP_AGENT)
    await act(handle, "resolve", VIP_AGENT, text="готово")
    reopened = await act(handle, "reopen", VIP_AGENT, reason="не помогло")
    return [on_l3, back, reopened]


def resolution(view):
    return [c for c in view.sla.clocks if c.kind == "resolution"][-1]


async def test_resolution_continues_and_first_response_is_answered_once(env) -> None:
    ts, queue = env
    handle, view = await open_request(ts.client, queue, request_start(customer=VIP_FACTS))
    assert view.sla is not None and view.sla.policy == "vip"
    on_l3, back, reopened = await walk_across_lines(handle, ts)
    assert resolution(on_l3).line == Line.L3
    assert timedelta(hours=1) <= resolution(on_l3).elapsed < timedelta(hours=1, minutes=5)
    # Back at L2: one first response was given, none is asked again; resolution goes on.
    assert [s for s in segments(back) if s[2] == "first_response"] == [
        (1, "L2", "first_response", True)
    ]
    assert resolution(back).line == Line.L2 and resolution(back).segment == 3
    assert resolution(back).carried >= timedelta(hours=3)
    # Reopened: the clock goes on from what the resolution had used.
    resolved = [c for c in reopened.sla.clocks if c.kind == "resolution"][-2]
    assert resolved.stop_reason == "resolved"
    assert resolution(reopened).carried == resolved.elapsed
    assert resolution(reopened).remaining <= resolution(reopened).target - timedelta(hours=3)
    await act(handle, "cancel", VIP_AGENT, reason="тест")
    await capture_history(ts.client, handle.id)


@pytest_asyncio.fixture(scope="module")
async def restarting(env, sessions, rules, tmp_path_factory) -> AsyncIterator[tuple]:
    """A worker whose VIP policy says `on_line_change: restart`."""
    ts, _ = env
    folder: Path = tmp_path_factory.mktemp("rules")
    shutil.copytree(ROOT / "routing_rules" / "topics", folder / "topics")
    (folder / "sla").mkdir()
    text = (ROOT / "routing_rules" / "sla" / "policies.yaml").read_text()
    marker = "    on_breach: [notify_supervisor, {raise_priority: critical}]\n"
    assert marker in text
    text = text.replace(marker, marker + "    on_line_change: restart\n", 1)
    (folder / "sla" / "policies.yaml").write_text(text)
    queue = f"restart-{uuid.uuid4().hex}"
    async with worker_for(ts.client, queue, sessions, rules, sla=load_sla(folder / "sla")):
        yield ts, queue


async def test_restart_gives_each_line_its_full_target(restarting) -> None:
    ts, queue = restarting
    handle, _ = await open_request(ts.client, queue, request_start(customer=VIP_FACTS))
    on_l3, back, reopened = await walk_across_lines(handle, ts)
    for view in (on_l3, back, reopened):
        assert resolution(view).carried == timedelta(0)
        assert resolution(view).elapsed < timedelta(minutes=5)
    assert [s for s in segments(back) if s[2] == "first_response"] == [
        (1, "L2", "first_response", True)
    ]
    await act(handle, "cancel", VIP_AGENT, reason="тест")
