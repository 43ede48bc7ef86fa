"""The top-level layout DESIGN.md fixes, as a fresh clone has it."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_top_level_part_is_tracked() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    tops = {path.split("/")[0] for path in tracked}
    for part in (
        "api",
        "workflows",
        "activities",
        "routing_rules",
        "email_templates",
        "tests",
        "worker.py",
        "docker-compose.yml",
        "pyproject.toml",
        "Dockerfile",
        "caseflow",
    ):
        assert part in tops, f"{part} is not in the repository"
