"""Guided intake: representatives and their authority, intake fields on requests, call notes

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "representatives",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("authorities", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_representatives_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_representatives")),
    )
    op.create_index(op.f("ix_representatives_customer_id"), "representatives", ["customer_id"])
    op.create_table(
        "interactions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_interactions_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interactions")),
    )
    op.create_index(op.f("ix_interactions_customer_id_at"), "interactions", ["customer_id", "at"])
    with op.batch_alter_table("requests") as batch:
        batch.add_column(
            sa.Column("fields", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch.add_column(
            sa.Column("field_disclosure", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch.add_column(sa.Column("contact_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("unidentified", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column(
                "disclosure_allowed",
                sa.String(length=32),
                nullable=False,
                server_default="public",
            )
        )
    # Interactions are read per customer, newest first: requests and notifications too.
    op.create_index(op.f("ix_notifications_customer_id"), "notifications", ["customer_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_notifications_customer_id"), table_name="notifications")
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("disclosure_allowed")
        batch.drop_column("unidentified")
        batch.drop_column("contact_id")
        batch.drop_column("field_disclosure")
        batch.drop_column("fields")
    op.drop_table("interactions")
    op.drop_table("representatives")
