"""External tickets: links, inbound events, posts sent, files (content-addressed)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_files")),
    )
    op.create_table(
        "request_files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("added_by", sa.String(length=120), nullable=True),
        sa.Column("at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["sha256"], ["files.sha256"], name=op.f("fk_request_files_sha256_files")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_files")),
        sa.UniqueConstraint(
            "request_id",
            "sha256",
            "filename",
            name=op.f("uq_request_files_request_id_sha256_filename"),
        ),
    )
    op.create_index(op.f("ix_request_files_request_id"), "request_files", ["request_id"])
    op.create_table(
        "ticket_links",
        sa.Column("connector", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("workflow_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("connector", "ticket_id", name=op.f("pk_ticket_links")),
    )
    op.create_index(op.f("ix_ticket_links_request_id"), "ticket_links", ["request_id"])
    op.create_table(
        "ticket_events",
        sa.Column("connector", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=160), nullable=False),
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("order", sa.Float(), nullable=False),
        sa.Column("change", sa.JSON(), nullable=False),
        sa.Column("received_at", WHEN, nullable=False),
        sa.Column("signalled_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("connector", "event_id", name=op.f("pk_ticket_events")),
    )
    op.create_index(op.f("ix_ticket_events_request_id"), "ticket_events", ["request_id"])
    op.create_table(
        "ticket_posts",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("connector", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("article_id", sa.String(length=64), nullable=True),
        sa.Column("at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_ticket_posts")),
    )


def downgrade() -> None:
    op.drop_table("ticket_posts")
    op.drop_index(op.f("ix_ticket_events_request_id"), table_name="ticket_events")
    op.drop_table("ticket_events")
    op.drop_index(op.f("ix_ticket_links_request_id"), table_name="ticket_links")
    op.drop_table("ticket_links")
    op.drop_index(op.f("ix_request_files_request_id"), table_name="request_files")
    op.drop_table("request_files")
    op.drop_table("files")
