"""Migrations run up and down on PostgreSQL and SQLite, and match the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from caseflow.models import Base
from caseflow.platform import db as database
from tests.conftest import pg_url


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_database(request, make_pg_database, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return pg_url(make_pg_database())
    return f"sqlite:///{tmp_path / 'caseflow.platform.db'}"


def test_upgrade_downgrade_upgrade(empty_database: str) -> None:
    database.upgrade(empty_database)
    engine = create_engine(empty_database)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"customers", "requests", "request_events", "users", "teams"} <= tables
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            counter = conn.execute(text("SELECT value FROM counters WHERE name='request'"))
            assert counter.scalar_one() == 0
        assert diff == [], f"models and migrations disagree: {diff}"

        database.downgrade(empty_database, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        database.upgrade(empty_database)
        assert "requests" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
