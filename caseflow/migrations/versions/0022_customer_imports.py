"""Bulk customer imports: the job with its counts and checkpoint, its staged rows (filled
by COPY on PostgreSQL) and its rejected rows.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from caseflow.models.base import UtcDateTime

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None
COUNTS = ("rows_total", "rows_done", "created", "updated", "joined", "rejected", "position")


def upgrade() -> None:
    op.create_table(
        "customer_imports",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=True),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
    )
    op.create_table(
        "customer_import_rows",
        sa.Column("import_id", sa.String(length=36), primary_key=True),
        sa.Column("line", sa.Integer(), primary_key=True),
        sa.Column("data", sa.JSON(), nullable=False),
    )
    op.create_table(
        "customer_import_rejects",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("import_id", sa.String(length=36), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
    )
    op.create_index(
        "ix_customer_import_rejects_import_id_line",
        "customer_import_rejects",
        ["import_id", "line"],
    )


def downgrade() -> None:
    op.drop_table("customer_import_rejects")
    op.drop_table("customer_import_rows")
    op.drop_table("customer_imports")
