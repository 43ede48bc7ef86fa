"""Logs tell one case's story: each line written while serving a call carries the call's
X-Request-ID (echoed in the answer) and the workflow it reached."""

from __future__ import annotations

import logging
import uuid

from tests.test_bad_input import cancel
from tests.test_supervisor import new_request


async def test_log_lines_carry_the_request_id_and_the_workflow_id(http, tokens, caplog) -> None:
    created = await new_request(http, tokens["operator"])
    call = f"call-{uuid.uuid4().hex[:8]}"
    headers = {**tokens[created["assignee"]], "X-Request-ID": call}
    with caplog.at_level(logging.INFO):
        answer = await http.post(f"/api/v1/requests/{created['id']}/start", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-request-id"] == call
    summary = [r for r in caplog.records if r.getMessage() == "http" and r.path.endswith("/start")]
    assert summary, [r.getMessage() for r in caplog.records]
    assert summary[-1].request_id == call
    assert summary[-1].workflow_id == created["workflow_id"]
    made_up = await http.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert made_up.headers["x-request-id"] != "bad id with spaces"  # a fresh one instead
    await cancel(http, tokens, created["id"])
