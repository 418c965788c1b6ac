"""reachability tests: a drill's prefect approval, a run's test messages (issue 19)

`exercise_drill.approved_by` / `approved_at`: the prefect who approved a reachability test
(none: awaiting approval; other kinds need none). `exercise_run.reach_messages`: the outbox
messages a reachability run wrote, read back for its result.

Revision ID: c4a8e2f6b1d9
Revises: d5e1a7c3f9b2
Create Date: 2026-12-04 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.types import UTCDateTime

revision: str = "c4a8e2f6b1d9"
down_revision: str | None = "d5e1a7c3f9b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("exercise_drill") as batch:
        batch.add_column(
            sa.Column("approved_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch.add_column(sa.Column("approved_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("exercise_run") as batch:
        batch.add_column(sa.Column("reach_messages", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exercise_run") as batch:
        batch.drop_column("reach_messages")
    with op.batch_alter_table("exercise_drill") as batch:
        batch.drop_column("approved_at")
        batch.drop_column("approved_by")
