"""The SLA ledger in the read model: segments and their clocks

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OPEN_BREACH = "request_open AND breached_at IS NOT NULL"
RUNNING_CLOCK = "request_open AND stopped_at IS NULL AND breached_at IS NULL"
RESOLVED_CLOCK = "kind = 'resolution' AND stop_reason = 'resolved'"


def upgrade() -> None:
    op.create_table(
        "sla_segments",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("segment", sa.Integer(), nullable=False),
        sa.Column("line", sa.String(length=16), nullable=False),
        sa.Column("policy", sa.String(length=64), nullable=False),
        sa.Column("calendar", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_because", sa.String(length=200), nullable=False),
        sa.Column("stop_reason", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("request_id", "segment", name=op.f("pk_sla_segments")),
    )
    op.create_table(
        "sla_clocks",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("segment", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("line", sa.String(length=16), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=True),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("policy", sa.String(length=64), nullable=False),
        sa.Column("calendar", sa.String(length=64), nullable=False),
        sa.Column("target_s", sa.Integer(), nullable=False),
        sa.Column("elapsed_s", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stop_reason", sa.String(length=200), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("pauses", sa.JSON(), nullable=False),
        sa.Column("warned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("request_open", sa.Boolean(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("as_of_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("request_id", "segment", "kind", name=op.f("pk_sla_clocks")),
    )
    order = ["request_id", "segment", "kind"]
    op.create_index(
        "ix_sla_clocks_open_breaches",
        "sla_clocks",
        ["breached_at", *order],
        postgresql_where=sa.text(OPEN_BREACH),
        sqlite_where=sa.text(OPEN_BREACH),
    )
    op.create_index(
        "ix_sla_clocks_running_due",
        "sla_clocks",
        ["due_at", *order],
        postgresql_where=sa.text(RUNNING_CLOCK),
        sqlite_where=sa.text(RUNNING_CLOCK),
    )
    op.create_index(
        "ix_sla_clocks_resolved",
        "sla_clocks",
        ["queue", "stopped_at"],
        postgresql_where=sa.text(RESOLVED_CLOCK),
        sqlite_where=sa.text(RESOLVED_CLOCK),
    )
    op.create_index(op.f("ix_sla_clocks_started_at"), "sla_clocks", ["started_at"])


def downgrade() -> None:
    op.drop_table("sla_clocks")
    op.drop_table("sla_segments")
