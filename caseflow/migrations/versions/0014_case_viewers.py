"""Who has a request's page open, for the console's presence

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from caseflow.models import UtcDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_viewers",
        sa.Column("request_id", sa.String(length=36), primary_key=True),
        sa.Column("username", sa.String(length=64), primary_key=True),
        sa.Column("seen_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_case_viewers_seen_at", "case_viewers", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_case_viewers_seen_at", table_name="case_viewers")
    op.drop_table("case_viewers")
