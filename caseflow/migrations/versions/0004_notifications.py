"""E-mail: the notifications outbox and how customers like to be addressed

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(
            sa.Column("address_form", sa.String(length=16), nullable=False, server_default="formal")
        )
        batch.add_column(sa.Column("address_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("contact_person", sa.String(length=200), nullable=True))
    op.create_table(
        "notifications",
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("recipient_key", sa.String(length=120), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=True),
        sa.Column("customer_id", sa.String(length=36), nullable=True),
        sa.Column("request_id", sa.String(length=36), nullable=True),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("notice_keys", sa.JSON(), nullable=False),
        sa.Column("importance", sa.String(length=16), nullable=False),
        sa.Column("template", sa.String(length=200), nullable=True),
        sa.Column("locale", sa.String(length=16), nullable=True),
        sa.Column("subject", sa.String(length=400), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("first_notice_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("batched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_notifications")),
    )
    op.create_index(op.f("ix_notifications_recipient_key"), "notifications", ["recipient_key"])
    op.create_index(op.f("ix_notifications_request_id"), "notifications", ["request_id"])
    op.create_index(
        op.f("ix_notifications_status_created_at"), "notifications", ["status", "created_at"]
    )


def downgrade() -> None:
    op.drop_table("notifications")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("contact_person")
        batch.drop_column("address_name")
        batch.drop_column("address_form")
