"""Blocking keys for likely duplicate customers (`customer_match_keys`), computed for every
existing profile here, in batches.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from caseflow.customers.matching import Profile, keys

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None
BATCH = 5000


def upgrade() -> None:
    op.create_table(
        "customer_match_keys",
        sa.Column(
            "customer_id",
            sa.String(length=36),
            sa.ForeignKey("customers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key", sa.String(length=120), primary_key=True),
    )
    op.create_index("ix_customer_match_keys_key", "customer_match_keys", ["key"])
    bind = op.get_bind()
    table = sa.table(
        "customer_match_keys", sa.column("customer_id", sa.String), sa.column("key", sa.String)
    )
    after = ""
    while True:
        rows = bind.execute(
            sa.text("SELECT id, name FROM customers WHERE id > :after ORDER BY id LIMIT :n"),
            {"after": after, "n": BATCH},
        ).all()
        if not rows:
            return
        contacts: dict[str, dict[str, list[str]]] = {r.id: {"phone": [], "email": []} for r in rows}
        for found in bind.execute(
            sa.text(
                "SELECT customer_id, kind, value FROM customer_contacts "
                "WHERE customer_id > :after AND customer_id <= :last"
            ),
            {"after": after, "last": rows[-1].id},
        ):
            contacts[found.customer_id][found.kind].append(found.value)
        values = [
            {"customer_id": r.id, "key": key}
            for r in rows
            for key in keys(Profile(r.id, r.name, contacts[r.id]["phone"], contacts[r.id]["email"]))
        ]
        if values:
            op.bulk_insert(table, values)
        after = rows[-1].id


def downgrade() -> None:
    op.drop_table("customer_match_keys")
