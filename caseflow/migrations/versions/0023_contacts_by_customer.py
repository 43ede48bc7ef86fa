"""A profile's contacts by the profile: `customer_contacts.customer_id` was not indexed, so
reading a customer's phones and e-mails scanned every contact (an import into a base of
1,000,000 contacts slowed to a crawl; every customer read paid for it too).

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_customer_contacts_customer_id", "customer_contacts", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_customer_contacts_customer_id", table_name="customer_contacts")
