"""cip_request: the written requests to the CIP, their deadline and answer (issue 20 item 4)

Revision ID: 1af559b6fbba
Revises: 6cfecf91c2d2
Create Date: 2026-12-05 04:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "1af559b6fbba"
down_revision: str | None = "6cfecf91c2d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cip_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crisis_id", sa.Integer(), nullable=False),
        sa.Column("received_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sender", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("sender_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("message_ref", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("assigned_to", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("assigned_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("outbox_message_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["crisis_id"], ["crisis.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_cip_request_crisis_id"), "cip_request", ["crisis_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_cip_request_crisis_id"), table_name="cip_request")
    op.drop_table("cip_request")
