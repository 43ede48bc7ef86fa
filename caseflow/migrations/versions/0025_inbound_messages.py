"""E-mail that came in (the mail gateway, later IMAP mailboxes): each message once, by its
Message-ID or the hash of its bytes, and what became of it.

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from caseflow.models.base import UtcDateTime

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("message_key", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("via", sa.String(64), nullable=False),
        sa.Column("mail_from", sa.String(320), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=True),
        sa.Column("request_id", sa.String(36), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("filed_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_inbound_messages"),
        sa.UniqueConstraint("message_key", name="uq_inbound_messages_message_key"),
    )
    op.create_index("ix_inbound_messages_status_id", "inbound_messages", ["status", "id"])
    op.create_index("ix_inbound_messages_request_id", "inbound_messages", ["request_id"])


def downgrade() -> None:
    op.drop_table("inbound_messages")
