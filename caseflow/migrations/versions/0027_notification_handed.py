"""An e-mail handed to the SMTP server carries the time until the server's answer is
recorded: a retry that finds it set knows an earlier attempt was cut off mid-send.

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from caseflow.models.base import UtcDateTime

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notifications", sa.Column("handed_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as table:
        table.drop_column("handed_at")
