"""Workers' signs of life, for readiness

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from caseflow.models import UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_beats",
        sa.Column("name", sa.String(length=200), primary_key=True),
        sa.Column("task_queue", sa.String(length=200), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("beat_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_worker_beats_task_queue", "worker_beats", ["task_queue"])


def downgrade() -> None:
    op.drop_index("ix_worker_beats_task_queue", table_name="worker_beats")
    op.drop_table("worker_beats")
