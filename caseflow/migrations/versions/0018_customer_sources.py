"""Customer profiles from sources: each source's latest statement of each field
(`customer_facts`), the changes of the profile's values (`customer_changes`), and the
source that registered a profile (`customers.source`; what it said at creation stands as
its facts until a source states anything else, so existing profiles need no backfill), and
where a long job over many records stopped (`job_checkpoints`: a recomputation resumes).

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from caseflow.models.base import UtcDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("source", sa.String(length=64), nullable=True))
    op.create_table(
        "customer_facts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "customer_id",
            sa.String(length=36),
            sa.ForeignKey("customers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("origin_id", sa.String(length=36), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.UniqueConstraint("origin_id", "source", "field"),
    )
    op.create_index("ix_customer_facts_customer_id", "customer_facts", ["customer_id"])
    op.create_table(
        "customer_changes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "customer_id",
            sa.String(length=36),
            sa.ForeignKey("customers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
    )
    op.create_index("ix_customer_changes_customer_id_id", "customer_changes", ["customer_id", "id"])

    op.create_table(
        "job_checkpoints",
        sa.Column("name", sa.String(length=64), primary_key=True),
        sa.Column("position", sa.String(length=200), nullable=True),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("job_checkpoints")
    op.drop_table("customer_changes")
    op.drop_table("customer_facts")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("source")
