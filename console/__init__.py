"""The console: the browser edge beside the JSON API, mounted by the same app at `/`.

Pages are rendered on the server (Jinja2, one template per page, htmx asking for a block of
it for partial updates) over the same reads, access policy and workflow updates as the API
(`api/request_reads.py`, `api/actions.py`, `caseflow.access`). Live changes come by
Server-Sent Events. People sign in with the same passwords and guard as `POST /auth/token`
and hold a signed session cookie; every form carries a CSRF token.
"""

from __future__ import annotations

from console.app import install

__all__ = ["install"]
