"""Merging customer profiles: where a duplicate went (`customers.merged_into`) and each
merge with what moved (`customer_merges`), so it can be undone.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from caseflow.models.base import UtcDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("merged_into", sa.String(length=36), nullable=True))
        batch.create_index("ix_customers_merged_into", ["merged_into"])
    op.create_table(
        "customer_merges",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("survivor_id", sa.String(length=36), nullable=False),
        sa.Column("duplicate_ids", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("moved", sa.JSON(), nullable=False),
        sa.Column("undone_by", sa.String(length=64), nullable=True),
        sa.Column("undone_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_customer_merges_survivor_id", "customer_merges", ["survivor_id"])


def downgrade() -> None:
    op.drop_table("customer_merges")
    with op.batch_alter_table("customers") as batch:
        batch.drop_index("ix_customers_merged_into")
        batch.drop_column("merged_into")
