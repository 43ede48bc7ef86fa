"""Every change of a deal's row or of one of its tasks is announced on PostgreSQL's
`caseflow_requests` channel as `deal:<id>`, so the console's deal page and board wake at
once (a task marked overdue by its timer changes no step of the deal but is shown).
SQLite has no such thing: there the console polls.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION caseflow_announce_deal() RETURNS trigger AS $$
        BEGIN
            PERFORM pg_notify('caseflow_requests', 'deal:' || (to_jsonb(NEW) ->> TG_ARGV[0]));
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        "CREATE TRIGGER deals_announce AFTER INSERT OR UPDATE ON deals "
        "FOR EACH ROW EXECUTE FUNCTION caseflow_announce_deal('id')"
    )
    op.execute(
        "CREATE TRIGGER deal_tasks_announce AFTER INSERT OR UPDATE ON deal_tasks "
        "FOR EACH ROW EXECUTE FUNCTION caseflow_announce_deal('deal_id')"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS deal_tasks_announce ON deal_tasks")
    op.execute("DROP TRIGGER IF EXISTS deals_announce ON deals")
    op.execute("DROP FUNCTION IF EXISTS caseflow_announce_deal()")
