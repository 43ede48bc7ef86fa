"""One settings object for every process, read from CASEFLOW_* environment variables."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me-development-only-secret-0123456789"

ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CASEFLOW_", env_file=".env", extra="ignore")

    environment: str = "development"
    database_url: str = "sqlite+aiosqlite:///./.caseflow/caseflow.platform.db"
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "caseflow"
    # Workflows a worker keeps in memory between their steps (Temporal's sticky cache): more
    # is fewer replays, less is less memory. Each costs about 110 KiB (bench/lifecycle.py
    # --cache 3000: 258 MiB at 1,000 open, 476 MiB at 3,000): at 1,000 a worker stays near
    # 280 MiB however many requests are open (227 MiB at 500). A replay of an evicted
    # request is short: a typical life is under 90 events.
    worker_cached_workflows: int = Field(default=1000, ge=0, le=100_000)
    # `at-start`: each workflow is loaded in Temporal's sandbox when the worker starts (a
    # workflow importing database or SMTP code refuses the worker) and runs natively;
    # `every-run`: every run and replay in the sandbox too (the test suite's workers), at a
    # fifth of a busy worker's time.
    workflow_sandbox: Literal["at-start", "every-run"] = "at-start"
    # A file the worker touches while it polls (a container health check reads it).
    worker_health_file: Path | None = None
    # Readiness: not ready unless a worker of the task queue gave a sign of life this recently.
    worker_silence: timedelta = timedelta(seconds=15)
    # How long POST /requests (and a request action) waits for a worker: longer, and the
    # intake is answered 202 "registering" (an action 503 with Retry-After).
    intake_deadline: timedelta = timedelta(seconds=5)
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
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout: float = 30.0
    mail_from: str = "Caseflow <support@caseflow.local>"
    # Replies go to case+<token>@reply_domain, so an answer finds its case.
    reply_domain: str = "caseflow.local"
    email_templates_dir: Path = ROOT / "email_templates"
    # Customer e-mails within this window are merged into one (critical topics never wait).
    digest_window: timedelta = timedelta(seconds=60)
    # How long an e-mail is retried while the relay answers 4xx or is down (MTAs keep a
    # message queued for days too); then it is marked failed, and may be resent by hand.
    mail_give_up_after: timedelta = timedelta(days=2)
    # E-mail in: a sender who writes more than this many new messages within the window
    # (a mail loop, a flood) gets no further case: the rest join their latest as notes.
    mail_throttle_messages: int = 5
    mail_throttle_window: timedelta = timedelta(minutes=10)
    # A customer's e-mail reopens their resolved case if it was resolved at most this long
    # ago; later (or once the case is closed) it opens a new case that names the old one.
    reopen_window: timedelta = timedelta(days=3)
    notifications: bool = True
    default_locale: str = "ru"
    # Where "today" is for people without working hours of their own (reports by date).
    default_timezone: str = "Europe/Moscow"
    # External ticket systems (OTRS/Znuny, Request Tracker); secrets as ${ENV} in the file.
    ticketing_file: Path = ROOT / "routing_rules" / "ticketing" / "connectors.yaml"
    attachment_max_bytes: int = 10 * 1024 * 1024
    log_level: str = "INFO"
    # Prometheus scrapes /metrics with this bearer token; without one, /metrics is off.
    metrics_token: SecretStr | None = None
    # Password logins: failures heard per username and per client address (limits' syntax),
    # and wrong passwords in a row that lock an account until an admin lifts it.
    login_failures_per_user: str = "5/minute"
    login_failures_per_address: str = "30/minute"
    login_lockout_after: int = 10
    # Every state change and read of customer data goes to the hash-chained audit log.
    audit: bool = True
    # The console's session: signed out after this long without a page or action, and
    # at the latest after `token_ttl`; its cookies carry `Secure` (behind TLS) unless off.
    console_idle_timeout: timedelta = timedelta(minutes=30)
    console_secure_cookies: bool | None = None  # None: on outside development

    @property
    def secure_cookies(self) -> bool:
        if self.console_secure_cookies is not None:
            return self.console_secure_cookies
        return self.environment != "development"

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
