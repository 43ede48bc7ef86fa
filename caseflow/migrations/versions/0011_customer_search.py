"""Customers' names as searches compare them (Unicode case folded), for both databases

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from caseflow.customers.identity import search_key

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as customers:
        customers.add_column(sa.Column("name_folded", sa.String(length=300), nullable=True))
    bind = op.get_bind()
    table = sa.table("customers", sa.column("id"), sa.column("name"), sa.column("name_folded"))
    for row in bind.execute(sa.select(table.c.id, table.c.name)).all():
        bind.execute(
            table.update().where(table.c.id == row.id).values(name_folded=search_key(row.name))
        )


def downgrade() -> None:
    with op.batch_alter_table("customers") as customers:
        customers.drop_column("name_folded")
