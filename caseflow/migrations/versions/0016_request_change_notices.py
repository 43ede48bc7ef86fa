"""Every recorded step of a request, and every change of its SLA ledger (written just after
the step), is announced on PostgreSQL's `caseflow_requests` channel (the request's id as
the payload), so the console's live pages wake at once instead of polling; delivered when
the transaction commits. SQLite has no such thing: there the console polls.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION caseflow_announce_request() RETURNS trigger AS $$
        BEGIN
            PERFORM pg_notify('caseflow_requests', NEW.request_id);
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        "CREATE TRIGGER request_events_announce AFTER INSERT ON request_events "
        "FOR EACH ROW EXECUTE FUNCTION caseflow_announce_request()"
    )
    op.execute(
        "CREATE TRIGGER sla_clocks_announce AFTER INSERT OR UPDATE ON sla_clocks "
        "FOR EACH ROW EXECUTE FUNCTION caseflow_announce_request()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS sla_clocks_announce ON sla_clocks")
    op.execute("DROP TRIGGER IF EXISTS request_events_announce ON request_events")
    op.execute("DROP FUNCTION IF EXISTS caseflow_announce_request()")
