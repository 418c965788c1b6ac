"""journal notify: on PostgreSQL, every statement that adds journal entries notifies listeners

Live pages wake up on the notification (from whichever instance wrote) instead of waiting for
their next poll. NOTIFY is transactional: listeners hear of an entry only once it is committed.

Revision ID: c1a7e5d20f31
Revises: b5f1c892449f
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c1a7e5d20f31"
down_revision: str | None = "b5f1c892449f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "tocsin_journal"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION tocsin_journal_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '');
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER journal_entry_notify AFTER INSERT ON journal_entry
        FOR EACH STATEMENT EXECUTE FUNCTION tocsin_journal_notify()
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS journal_entry_notify ON journal_entry")
    op.execute("DROP FUNCTION IF EXISTS tocsin_journal_notify()")
