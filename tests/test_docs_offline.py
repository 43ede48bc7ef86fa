"""The API's docs work without internet: /docs and /redoc load nothing from elsewhere, and
every script, style and icon they name is served by the API itself."""

from __future__ import annotations

import re

import pytest

ASSET = re.compile(r"""(?:src|href|spec-url)=["']([^"']+)["']""")
CALLED = re.compile(r"""url:\s*['"]([^'"]+)['"]""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_load_only_from_the_api(http, page: str) -> None:
    answer = await http.get(page)
    assert answer.status_code == 200 and "text/html" in answer.headers["content-type"]
    named = ASSET.findall(answer.text) + CALLED.findall(answer.text)
    assert named, answer.text
    outside = [url for url in named if not url.startswith("/") or url.startswith("//")]
    assert outside == []  # no CDN, no fonts from Google
    for url in named:
        asset = await http.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url
    scripts = [u for u in named if u.endswith(".js")]
    assert scripts, "the page's own script is served"
