"""cip_debrief: the CIP operators' debrief after the close (issue 20)

One row per person who held a shift: the hard calls and what the next CIP needs.

Revision ID: 6de786315750
Revises: f2c8d4a6b9e1
Create Date: 2026-12-05 02:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "6de786315750"
down_revision: str | None = "f2c8d4a6b9e1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cip_debrief",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crisis_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("hard_calls", sa.Text(), nullable=False),
        sa.Column("needs", sa.Text(), nullable=False),
        sa.Column("written_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["crisis_id"], ["crisis.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("crisis_id", "user_id", name="uq_cip_debrief_person"),
    )
    op.create_index(op.f("ix_cip_debrief_crisis_id"), "cip_debrief", ["crisis_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_cip_debrief_crisis_id"), table_name="cip_debrief")
    op.drop_table("cip_debrief")
