"""The top-level layout DESIGN.md fixes, as a fresh clone has it."""

from __future__ import annotations

import ast
import re
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
        "console",
    ):
        assert part in tops, f"{part} is not in the repository"


UPPER = ("api", "console", "workflows", "activities", "worker", "cli")


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


def test_the_core_names_no_module_above_it_in_a_string() -> None:
    """An import by string (`uvicorn.run("api.app:create_app")`, importlib) counts too."""
    found = []
    for path in sorted((ROOT / "caseflow").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                head = node.value.split(":")[0].split(".")[0]
                # `api.app`, `api:app`; not the `api:` of a source name such as `api:crm`
                if head in UPPER and re.match(r"^\w+([.:]\w)", node.value):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} names {node.value}")
    assert found == []


def test_no_module_passes_about_four_hundred_lines() -> None:
    """Small modules (tests and migrations aside)."""
    parts = ("caseflow", "api", "console", "workflows", "activities", "cli")
    long = [
        f"{path.relative_to(ROOT)}: {lines}"
        for part in parts
        for path in sorted((ROOT / part).rglob("*.py"))
        if "migrations" not in path.parts and (lines := len(path.read_text().splitlines())) > 420
    ]
    assert long == []


def test_the_console_reaches_workflows_only_through_the_api_edge() -> None:
    """The console is an edge beside the API: it never imports activities or the worker,
    and nothing below the edges imports it."""
    found = []
    for part in ("console", "workflows", "activities"):
        for path in sorted((ROOT / part).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                module = node.module if isinstance(node, ast.ImportFrom) else None
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                for name in [*names, *([module] if module else [])]:
                    head = name.split(".")[0]
                    wrong = {"activities", "worker", "cli"} if part == "console" else {"console"}
                    if head in wrong:
                        where = getattr(node, "lineno", 0)
                        found.append(f"{path.relative_to(ROOT)}:{where} imports {name}")
    assert found == []


def test_nothing_in_the_repository_needs_what_a_clone_does_not_have() -> None:
    """Someone who cloned the repository has only the repository: no file (README, scripts,
    tests, code) may point at or run things from a directory beside it."""
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    outside = re.compile(r"\.\./shared|[\"']shared[\"']\s*/")
    pointing = []
    for name in tracked:
        path = ROOT / name
        if path.suffix in {".png", ".json", ".eml", ".gz"} or not path.is_file():
            continue
        text = path.read_text(errors="replace")
        pointing += [f"{name}:{n}" for n, line in enumerate(text.splitlines(), 1)
                     if outside.search(line)]  # fmt: skip
    assert not pointing, "points outside the repository: " + ", ".join(pointing)
