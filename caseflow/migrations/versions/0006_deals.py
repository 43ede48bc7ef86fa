"""Deals, their tasks and history in the read model

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "deals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workflow_id", sa.String(length=64), nullable=False),
        sa.Column("pipeline", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_deals_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deals")),
        sa.UniqueConstraint("workflow_id", name=op.f("uq_deals_workflow_id")),
    )
    op.create_index(op.f("ix_deals_owner_status"), "deals", ["owner", "status"])
    op.create_index(op.f("ix_deals_customer_id_status"), "deals", ["customer_id", "status"])
    op.create_index(op.f("ix_deals_stage"), "deals", ["stage"])
    op.create_table(
        "deal_tasks",
        sa.Column("deal_id", sa.String(length=36), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("assignee", sa.String(length=64), nullable=False),
        sa.Column("due_at", WHEN, nullable=False),
        sa.Column("blocking", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("reminded_at", WHEN, nullable=True),
        sa.Column("overdue_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("deal_id", "task_id", name=op.f("pk_deal_tasks")),
    )
    op.create_index(
        op.f("ix_deal_tasks_assignee_status_due_at"),
        "deal_tasks",
        ["assignee", "status", "due_at"],
    )
    op.create_table(
        "deal_events",
        sa.Column("deal_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("deal_id", "seq", name=op.f("pk_deal_events")),
    )


def downgrade() -> None:
    op.drop_table("deal_events")
    op.drop_table("deal_tasks")
    op.drop_table("deals")
