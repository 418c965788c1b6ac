"""exercise programme: drills (title, kind, schedule, participants) and their runs (ES49)

`exercise_drill.next_run_at` is the next scheduled launch; `exercise_run` is unique per drill
and occurrence, so that one scheduled instant never launches twice (issue 19).

Revision ID: b7d3e9f1c2a4
Revises: a9c4e2f7b1d3
Create Date: 2026-12-04 21:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "b7d3e9f1c2a4"
down_revision: str | None = "a9c4e2f7b1d3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STRING = sqlmodel.sql.sqltypes.AutoString
INSTANT = storage.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "exercise_drill",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", STRING(length=200), nullable=False),
        sa.Column("kind", STRING(length=20), nullable=False),
        sa.Column("playbook_key", STRING(length=60), nullable=True),
        sa.Column("communes", sa.JSON(), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("starts_at", INSTANT(timezone=True), nullable=True),
        sa.Column("rrule", STRING(length=500), nullable=True),
        sa.Column("first_at", INSTANT(timezone=True), nullable=True),
        sa.Column("next_run_at", INSTANT(timezone=True), nullable=True),
        sa.Column("confirm_first", sa.Boolean(), nullable=False),
        sa.Column("created_at", INSTANT(timezone=True), nullable=False),
        sa.Column("created_by", STRING(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_exercise_drill_next_run_at", "exercise_drill", ["next_run_at"])
    op.create_table(
        "exercise_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drill_id", sa.Integer(), nullable=False),
        sa.Column("occurrence_at", INSTANT(timezone=True), nullable=True),
        sa.Column("status", STRING(length=20), nullable=False),
        sa.Column("crisis_id", sa.Integer(), nullable=True),
        sa.Column("launched_at", INSTANT(timezone=True), nullable=True),
        sa.Column("launched_by", STRING(length=64), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("ended_at", INSTANT(timezone=True), nullable=True),
        sa.Column("ended_by", STRING(length=64), nullable=True),
        sa.Column("stop_reason", STRING(length=1000), nullable=True),
        sa.ForeignKeyConstraint(["drill_id"], ["exercise_drill.id"]),
        sa.ForeignKeyConstraint(["crisis_id"], ["crisis.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("drill_id", "occurrence_at"),
    )
    op.create_index("ix_exercise_run_drill_id", "exercise_run", ["drill_id"])
    op.create_index("ix_exercise_run_crisis_id", "exercise_run", ["crisis_id"])


def downgrade() -> None:
    op.drop_table("exercise_run")
    op.drop_table("exercise_drill")
