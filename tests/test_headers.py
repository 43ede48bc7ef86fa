"""What every answer tells the browser and the caches, and who may read /metrics."""

from __future__ import annotations

from tests.conftest import METRICS_TOKEN
from tests.test_api import assert_problem


async def test_answers_carry_the_security_headers(http, tokens) -> None:
    mine = await http.get("/api/v1/customers", headers=tokens["operator"])
    assert mine.status_code == 200
    anonymous = await http.get("/api/v1/customers")
    assert_problem(anonymous, 401)
    for answer in (mine, anonymous):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        csp = answer.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    # Someone's data is never kept by a cache on the way.
    assert mine.headers["cache-control"] == "no-store"
    download = await http.get("/api/v1/requests?limit=1", headers=tokens["admin"])
    assert download.headers["cache-control"] == "no-store"


async def test_metrics_need_the_scrapers_token(http) -> None:
    assert_problem(await http.get("/metrics"), 401, "unauthorized")
    wrong = {"Authorization": "Bearer guess"}
    assert_problem(await http.get("/metrics", headers=wrong), 401, "unauthorized")
    right = await http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert right.status_code == 200 and "caseflow_http_requests_total" in right.text
