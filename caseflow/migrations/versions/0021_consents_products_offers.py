"""Consents per channel and purpose, products held, answers to offers, and when a
customer's personal data was erased (`customers.anonymised_at`).

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from caseflow.models.base import UtcDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def customer() -> sa.Column:
    return sa.Column(
        "customer_id",
        sa.String(length=36),
        sa.ForeignKey("customers.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("anonymised_at", UtcDateTime(), nullable=True))
    op.create_table(
        "customer_consents",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        customer(),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("captured_at", UtcDateTime(), nullable=False),
        sa.Column("valid_until", UtcDateTime(), nullable=True),
        sa.Column("by", sa.String(length=64), nullable=False),
    )
    op.create_index(
        "ix_customer_consents_customer_id_channel_purpose",
        "customer_consents",
        ["customer_id", "channel", "purpose"],
    )
    op.create_table(
        "customer_products",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        customer(),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("balance", sa.Float(), nullable=True),
        sa.Column("volume", sa.Float(), nullable=True),
        sa.Column("fraud", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("as_of", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_customer_products_customer_id", "customer_products", ["customer_id"])
    op.create_index(
        "ix_customer_products_type_customer_id", "customer_products", ["type", "customer_id"]
    )
    op.create_table(
        "offer_outcomes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        customer(),
        sa.Column("offer", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
    )
    op.create_index(
        "ix_offer_outcomes_customer_id_offer_at", "offer_outcomes", ["customer_id", "offer", "at"]
    )


def downgrade() -> None:
    op.drop_table("offer_outcomes")
    op.drop_table("customer_products")
    op.drop_table("customer_consents")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("anonymised_at")
