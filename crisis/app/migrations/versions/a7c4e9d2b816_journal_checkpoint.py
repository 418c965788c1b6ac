"""journal_checkpoint: the signed checkpoints written outside the database (issue 15 item 2)

Each row remembers one checkpoint file (chain, length, last hash, time, key fingerprint), so
that a checkpoint is written once, one missed while the service was down is written at the next
tick, and the summary can print the latest of a crisis.

Revision ID: a7c4e9d2b816
Revises: f3a9c2e7d1b6
Create Date: 2026-12-04 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "a7c4e9d2b816"
down_revision: str | None = "f3a9c2e7d1b6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "journal_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("last_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("key_fingerprint", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("file_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chain", "length", "last_hash", name="uq_journal_checkpoint_head"),
    )
    with op.batch_alter_table("journal_checkpoint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journal_checkpoint_chain"), ["chain"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("journal_checkpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_checkpoint_chain"))
    op.drop_table("journal_checkpoint")
