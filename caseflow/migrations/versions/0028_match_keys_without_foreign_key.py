"""Blocking keys are derived data, rebuilt from a profile whenever it changes, and no
customer is ever deleted: the foreign key to `customers` only checked each key as it was
written — half the cost of writing them, and an import writes five a customer
(bench/import.py).

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None
FOREIGN_KEY = "fk_customer_match_keys_customer_id_customers"


def upgrade() -> None:
    with op.batch_alter_table("customer_match_keys") as table:
        table.drop_constraint(FOREIGN_KEY, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("customer_match_keys") as table:
        table.create_foreign_key(
            FOREIGN_KEY, "customers", ["customer_id"], ["id"], ondelete="CASCADE"
        )
