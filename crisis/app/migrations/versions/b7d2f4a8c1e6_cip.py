"""cip: the public information cell (ES50), its shifts, calls and FAQ

`cip` (one per crisis: the single number, ordered / opened / closed), `cip_shift` (operators
checked in and out with a hand-over note), `cip_faq_entry` (four-eyes FAQ, linked to its
source bulletin) and `cip_call` (calls logged from the console; issue 20).

Revision ID: b7d2f4a8c1e6
Revises: b7d3e9f1c2a4
Create Date: 2026-12-04 21:09:27.656400
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "b7d2f4a8c1e6"
down_revision: str | None = "b7d3e9f1c2a4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cip",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crisis_id", sa.Integer(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("ordered_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ordered_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("expected_opening_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("opened_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("opened_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("closed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["crisis_id"],
            ["crisis.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("crisis_id"),
    )
    op.create_table(
        "cip_shift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crisis_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("checked_in_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("checked_in_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("checked_out_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("checked_out_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("handover_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["crisis_id"],
            ["crisis.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cip_shift", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cip_shift_crisis_id"), ["crisis_id"], unique=False)
        batch_op.create_index("ix_cip_shift_present", ["crisis_id", "checked_out_at"], unique=False)

    op.create_table(
        "cip_faq_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crisis_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("communes", sa.JSON(), nullable=False),
        sa.Column("source_bulletin_id", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("approved_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["crisis_id"],
            ["crisis.id"],
        ),
        sa.ForeignKeyConstraint(
            ["source_bulletin_id"],
            ["bulletin.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cip_faq_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cip_faq_entry_crisis_id"), ["crisis_id"], unique=False)

    op.create_table(
        "cip_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crisis_id", sa.Integer(), nullable=False),
        sa.Column("received_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("commune", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("faq_id", sa.Integer(), nullable=True),
        sa.Column("follow_up", sa.Boolean(), nullable=False),
        sa.Column("callback_number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("follow_up_done_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("operator", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("recorded_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["crisis_id"],
            ["crisis.id"],
        ),
        sa.ForeignKeyConstraint(
            ["faq_id"],
            ["cip_faq_entry.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cip_call", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cip_call_crisis_id"), ["crisis_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cip_call", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cip_call_crisis_id"))

    op.drop_table("cip_call")
    with op.batch_alter_table("cip_faq_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cip_faq_entry_crisis_id"))

    op.drop_table("cip_faq_entry")
    with op.batch_alter_table("cip_shift", schema=None) as batch_op:
        batch_op.drop_index("ix_cip_shift_present")
        batch_op.drop_index(batch_op.f("ix_cip_shift_crisis_id"))

    op.drop_table("cip_shift")
    op.drop_table("cip")
