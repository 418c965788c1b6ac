"""pending import: a file checked by a dry run, kept a short while for « Importer ce fichier »

`pending_import` holds the content of a directory (or roster) file that a dry run accepted,
bound to the web session that sent it and to its SHA-256, for 30 minutes
(`crisis/pending_imports.py`, issue 18 item 12).

Revision ID: e5b1c9d3a7f2
Revises: b3c5d7e9f1a2
Create Date: 2026-12-04 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "e5b1c9d3a7f2"
down_revision: str | None = "b3c5d7e9f1a2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("fmt", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_pending_import_session_id", "pending_import", ["session_id"])


def downgrade() -> None:
    op.drop_index("ix_pending_import_session_id", table_name="pending_import")
    op.drop_table("pending_import")
