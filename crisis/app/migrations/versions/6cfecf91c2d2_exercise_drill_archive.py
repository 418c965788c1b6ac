"""exercise_drill_archive: a drill removed after it ran is archived, not deleted (issue 19)

Revision ID: 6cfecf91c2d2
Revises: 6de786315750
Create Date: 2026-12-05 03:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "6cfecf91c2d2"
down_revision: str | None = "6de786315750"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("exercise_drill") as batch:
        batch.add_column(
            sa.Column("archived_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("archived_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("exercise_drill") as batch:
        batch.drop_column("archived_by")
        batch.drop_column("archived_at")
