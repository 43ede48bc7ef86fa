"""People as they are (availability, skills, absences), routing facts, live rule version

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column(
                "availability", sa.String(length=16), nullable=False, server_default="available"
            )
        )
        batch.add_column(
            sa.Column("skills", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch.add_column(sa.Column("schedule", sa.JSON(), nullable=True))
    with op.batch_alter_table("teams") as batch:
        batch.add_column(
            sa.Column("requeue_when_away", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute("UPDATE users SET availability = 'away' WHERE NOT available")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("available")
    with op.batch_alter_table("customers") as batch:
        batch.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="client")
        )
        batch.add_column(sa.Column("planned_volume", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("account_manager", sa.String(length=64), nullable=True))
    op.create_table(
        "absences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_absences_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_absences")),
    )
    op.create_index(op.f("ix_absences_user_id"), "absences", ["user_id"], unique=False)
    routing_state = op.create_table(
        "routing_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reloaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reloaded_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_state")),
    )
    op.bulk_insert(routing_state, [{"id": 1, "version": 1}])


def downgrade() -> None:
    op.drop_table("routing_state")
    with op.batch_alter_table("teams") as batch:
        batch.drop_column("requeue_when_away")
    op.drop_index(op.f("ix_absences_user_id"), table_name="absences")
    op.drop_table("absences")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("account_manager")
        batch.drop_column("planned_volume")
        batch.drop_column("status")
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("available", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.execute("UPDATE users SET available = (availability = 'available')")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("schedule")
        batch.drop_column("skills")
        batch.drop_column("availability")
