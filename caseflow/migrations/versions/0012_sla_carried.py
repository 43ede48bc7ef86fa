"""SLA clocks keep the business time carried over from earlier lines (on_line_change)

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sla_clocks") as clocks:
        clocks.add_column(sa.Column("carried_s", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("sla_clocks") as clocks:
        clocks.drop_column("carried_s")
