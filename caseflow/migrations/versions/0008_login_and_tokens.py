"""Login: failed attempts and lockout per person; integration tokens, listed and revocable

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("users") as users:
        users.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        users.add_column(sa.Column("locked_at", WHEN, nullable=True))
    op.create_table(
        "api_tokens",
        sa.Column("jti", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("issued_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("revoked_at", WHEN, nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_api_tokens")),
    )
    op.create_index(op.f("ix_api_tokens_username"), "api_tokens", ["username"])


def downgrade() -> None:
    op.drop_index(op.f("ix_api_tokens_username"), table_name="api_tokens")
    op.drop_table("api_tokens")
    with op.batch_alter_table("users") as users:
        users.drop_column("locked_at")
        users.drop_column("failed_logins")
