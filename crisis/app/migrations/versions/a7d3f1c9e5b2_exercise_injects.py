"""exercise injects: a crisis drill's scenario and its plays per run (issue 19, item 6)

`exercise_inject`: the drill's injects (offset, target, channel, text, expected action,
deadline). `exercise_inject_play`: one row per run and inject played (unique), with what was
sent and the reaction's time. `exercise_run.injects_paused_at` / `injects_paused_seconds`:
the run's injects paused, and the time they were paused so far (their offsets shift by it).

Revision ID: a7d3f1c9e5b2
Revises: c4a8e2f6b1d9
Create Date: 2026-12-05 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.types import UTCDateTime

revision: str = "a7d3f1c9e5b2"
down_revision: str | None = "c4a8e2f6b1d9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "exercise_inject",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drill_id", sa.Integer(), nullable=False),
        sa.Column("offset_min", sa.Integer(), nullable=False),
        sa.Column("audience", TEXT(length=20), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("channel", TEXT(length=20), nullable=True),
        sa.Column("text", TEXT(length=2000), nullable=False),
        sa.Column("expected_action", TEXT(length=500), nullable=True),
        sa.Column("expected_kind", TEXT(length=40), nullable=True),
        sa.Column("deadline_min", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", TEXT(length=64), nullable=False),
        sa.ForeignKeyConstraint(["drill_id"], ["exercise_drill.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_exercise_inject_drill_id", "exercise_inject", ["drill_id"])
    op.create_table(
        "exercise_inject_play",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("inject_id", sa.Integer(), nullable=False),
        sa.Column("offset_min", sa.Integer(), nullable=False),
        sa.Column("target", TEXT(length=300), nullable=False),
        sa.Column("text", TEXT(length=2000), nullable=False),
        sa.Column("expected_action", TEXT(length=500), nullable=True),
        sa.Column("expected_kind", TEXT(length=40), nullable=True),
        sa.Column("deadline_min", sa.Integer(), nullable=True),
        sa.Column("played_at", UTCDateTime(), nullable=False),
        sa.Column("released_by", TEXT(length=64), nullable=True),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("done_by", TEXT(length=64), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["exercise_run.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "inject_id"),
    )
    op.create_index("ix_exercise_inject_play_run_id", "exercise_inject_play", ["run_id"])
    with op.batch_alter_table("exercise_run") as batch:
        batch.add_column(sa.Column("injects_paused_at", UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column("injects_paused_seconds", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("exercise_run") as batch:
        batch.drop_column("injects_paused_seconds")
        batch.drop_column("injects_paused_at")
    op.drop_index("ix_exercise_inject_play_run_id", table_name="exercise_inject_play")
    op.drop_table("exercise_inject_play")
    op.drop_index("ix_exercise_inject_drill_id", table_name="exercise_inject")
    op.drop_table("exercise_inject")
