"""docker-compose.yml: valid against the Compose specification, and wired to what the app reads.

No Docker engine runs here, so the file is checked by parsing: every service can be built or
pulled, exposes what users connect to, passes only settings Caseflow knows, and runs a
`caseflow` command that exists (the same commands `make run` starts without Docker).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from typer.testing import CliRunner

from caseflow.platform.settings import Settings
from cli.main import app as cli

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"


def services() -> dict[str, dict]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_compose_file_follows_the_specification() -> None:
    checker = shutil.which("check-jsonschema") or str(
        Path(sys.executable).parent / "check-jsonschema"
    )
    result = subprocess.run(
        [checker, "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_stack_has_every_part() -> None:
    found = services()
    assert {"postgres", "temporal", "temporal-ui", "mailpit", "api", "worker"} <= set(found)
    for name, service in found.items():
        assert "image" in service or "build" in service, name
    assert "auto-setup" in found["temporal"]["image"]
    assert found["temporal"]["environment"]["DB"].startswith("postgres")
    for name in ("postgres", "temporal", "temporal-ui", "mailpit", "api"):
        assert found[name].get("ports"), f"{name} publishes no port"
    assert (ROOT / "Dockerfile").exists()


def test_the_image_holds_every_package_and_the_consoles_scripts() -> None:
    """What pyproject installs must be copied into the image first (a console without its
    templates, or without htmx, would start and then fail every page)."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = project["tool"]["setuptools"]["packages"]["find"]["include"]
    for pattern in packages:
        name = pattern.rstrip("*")
        assert f"COPY {name} ./{name}" in dockerfile, name
    assert "scripts/console-assets" in dockerfile.split("pip install")[0]


def test_app_services_pass_known_settings_and_real_commands() -> None:
    known = {f"CASEFLOW_{name.upper()}" for name in Settings.model_fields}
    runner = CliRunner()
    for name in ("api", "worker", "migrate"):
        service = services()[name]
        env = service["environment"]
        assert set(env) <= known, set(env) - known
        assert {"CASEFLOW_DATABASE_URL", "CASEFLOW_TEMPORAL_ADDRESS"} <= set(env)
        assert env["CASEFLOW_DATABASE_URL"].startswith("postgresql+psycopg://")
        command = service["command"]
        assert command[0] == "caseflow"
        subcommand = command[1:3] if command[1] == "db" else command[1:2]
        help_run = runner.invoke(cli, [*subcommand, "--help"])
        assert help_run.exit_code == 0, help_run.output


LONG_RUNNING = ("postgres", "temporal", "temporal-ui", "mailpit", "api", "worker")


def test_the_stack_comes_back_and_starts_in_order() -> None:
    """Unattended: every long-running service restarts; the app waits for a Temporal that
    answers (not one that merely started); each part says whether it is healthy."""
    found = services()
    for name in LONG_RUNNING:
        assert found[name].get("restart") == "unless-stopped", name
    assert "restart" not in found["migrate"]  # a one-off: done is done
    for name in ("postgres", "temporal", "api", "worker"):
        assert found[name].get("healthcheck", {}).get("test"), f"{name} has no health check"
    assert "cluster health" in " ".join(found["temporal"]["healthcheck"]["test"])
    for name in ("api", "worker", "temporal-ui"):
        assert found[name]["depends_on"]["temporal"] == {"condition": "service_healthy"}, name
    assert found["temporal"]["depends_on"]["postgres"] == {"condition": "service_healthy"}


def test_the_worker_reports_its_health_and_scales() -> None:
    worker = services()["worker"]
    check = worker["healthcheck"]["test"]
    assert check[:3] == ["CMD", "caseflow", "worker-alive"]
    help_run = CliRunner().invoke(cli, [*check[2:3], "--help"])
    assert help_run.exit_code == 0, help_run.output
    assert worker["environment"]["CASEFLOW_WORKER_HEALTH_FILE"]
    assert worker["deploy"]["replicas"] >= 2
    assert "ports" not in worker and "container_name" not in worker  # nothing pins one copy
