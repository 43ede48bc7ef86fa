"""Signing in to the console as a browser would: the login form's CSRF token, then the
session cookie; and reading the token a page carries for its forms."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    found = TOKEN.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


@asynccontextmanager
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client with its own cookie jar (a browser of its own)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://caseflow") as client:
        yield client


async def sign_in(client: httpx.AsyncClient, username: str, password: str = "demo") -> str:
    """Signed in; the CSRF token the next forms carry."""
    form = await client.get("/login")
    token = csrf_of(form)
    answer = await client.post(
        "/login", data={"username": username, "password": password, "csrftoken": token}
    )
    assert answer.status_code == 303, answer.text
    return token
