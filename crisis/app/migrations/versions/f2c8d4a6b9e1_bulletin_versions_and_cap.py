"""bulletin versions and the CAP a webhook carries (issue 21)

`bulletin.translations`: the bulletin's English and easy-to-read French (FALC) versions,
`{"en" | "falc": {"title", "body"}}` (`{}` for a bulletin in French alone).
`outbox_message.cap`: the CAP 1.2 alert (XML) of a bulletin published to the public, for the
webhook that mirrors it on the prefecture's site (NULL for every other message).

Revision ID: f2c8d4a6b9e1
Revises: e7b3c9d1a5f2
Create Date: 2026-12-05 01:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f2c8d4a6b9e1"
down_revision: str | None = "e7b3c9d1a5f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# ALTER TABLE in place (SQLite 3.35+ drops a column itself): recreating `outbox_message`
# would break the foreign keys of its deliveries.


def upgrade() -> None:
    with op.batch_alter_table("bulletin", recreate="never") as batch:
        batch.add_column(
            sa.Column("translations", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    with op.batch_alter_table("outbox_message", recreate="never") as batch:
        batch.add_column(sa.Column("cap", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", recreate="never") as batch:
        batch.drop_column("cap")
    with op.batch_alter_table("bulletin", recreate="never") as batch:
        batch.drop_column("translations")
