"""on PostgreSQL, a change to a login session or an account notifies the service processes,
which forget the callers they keep for it (api.services.authcache)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The channel and payloads api.services.authcache listens for: "session:<id>", "account:<id>".
# Delivered when (and if) the changing transaction commits, whoever wrote it (SQL by hand too).
FUNCTION = """
CREATE OR REPLACE FUNCTION jobmatch_auth_changed() RETURNS trigger AS $$
BEGIN
    IF TG_TABLE_NAME = 'auth_session' THEN
        PERFORM pg_notify('jobmatch_auth', 'session:' || OLD.id);
    ELSE
        PERFORM pg_notify('jobmatch_auth', 'account:' || OLD.id);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
TABLES = ("auth_session", "account")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: no notifications, and the service keeps no callers there
    op.execute(FUNCTION)
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_changed AFTER UPDATE OR DELETE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION jobmatch_auth_changed()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_changed ON {table}")
    op.execute("DROP FUNCTION IF EXISTS jobmatch_auth_changed()")
