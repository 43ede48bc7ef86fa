"""An e-mail address mail came back from (a bounce the mail gateway read) is marked, and not
written to until the customer's addresses change.

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customer_contacts", sa.Column("undeliverable", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customer_contacts") as table:
        table.drop_column("undeliverable")
