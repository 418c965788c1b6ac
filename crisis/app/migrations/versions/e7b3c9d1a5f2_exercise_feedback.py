"""exercise feedback: the participants' three answers after a drill run (issue 19)

`exercise_feedback`: one row per participant and run, written with the end message that
carries its signed link; `answered_at` set once, with the rating and the two texts.

Revision ID: e7b3c9d1a5f2
Revises: a7d3f1c9e5b2
Create Date: 2026-12-05 01:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "e7b3c9d1a5f2"
down_revision: str | None = "a7d3f1c9e5b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exercise_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("went_well", sa.Text(), nullable=True),
        sa.Column("to_improve", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["exercise_run.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "contact_id"),
    )
    with op.batch_alter_table("exercise_feedback") as batch:
        batch.create_index(batch.f("ix_exercise_feedback_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("exercise_feedback") as batch:
        batch.drop_index(batch.f("ix_exercise_feedback_run_id"))
    op.drop_table("exercise_feedback")
