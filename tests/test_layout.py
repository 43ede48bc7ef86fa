"""The top-level layout DESIGN.md fixes, as a fresh clone has it."""

from __future__ import annotations

import ast
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
        "cli",
    ):
        assert part in tops, f"{part} is not in the repository"


UPPER = ("api", "workflows", "activities", "worker", "cli")


def test_the_core_imports_nothing_above_it() -> None:
    """caseflow/ is the core: the API, workflows, activities, the worker and the command use
    it, never the other way round (not even inside a function)."""
    found = []
    for path in sorted((ROOT / "caseflow").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            found += [
                f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)} imports {name}"
                for name in names
                if name.split(".")[0] in UPPER
            ]
    assert found == []
