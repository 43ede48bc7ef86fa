"""One settings object for every process, read from CASEFLOW_* environment variables."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me-development-only-secret-0123456789"

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CASEFLOW_", env_file=".env", extra="ignore")

    environment: str = "development"
    database_url: str = "sqlite+aiosqlite:///./.caseflow/caseflow.db"
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "caseflow"
    jwt_secret: str = PLACEHOLDER_SECRET
    token_ttl: timedelta = timedelta(hours=12)
    auto_close_after: timedelta = timedelta(days=3)
    # Supervisors' SLA forecasts (queue depths, median handling) are recomputed this often.
    forecast_ttl: timedelta = timedelta(seconds=60)
    routing_rules_dir: Path = ROOT / "routing_rules"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _no_placeholder_secret_in_production(self) -> Settings:
        if self.environment != "development" and self.jwt_secret == PLACEHOLDER_SECRET:
            raise ValueError("CASEFLOW_JWT_SECRET must be set outside development")
        return self

    @property
    def sync_database_url(self) -> str:
        """The same database for synchronous callers (Alembic)."""
        return self.database_url.replace("+aiosqlite", "")


@lru_cache
def get_settings() -> Settings:
    return Settings()
