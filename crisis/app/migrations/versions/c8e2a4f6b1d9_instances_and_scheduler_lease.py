"""instances and scheduler lease: heartbeats, claims by instance, leadership as a lease row

`dispatch_instance` holds each worker process' heartbeat; `delivery.claimed_by` names the
instance that claimed a delivery, so that another puts it back within seconds when that one
dies; `scheduler_lease` replaces the advisory lock with a renewed lease and a fencing token
(issue 17 items 1 and 3).

Revision ID: c8e2a4f6b1d9
Revises: a7c3e9f1b5d2
Create Date: 2026-12-04 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "c8e2a4f6b1d9"
down_revision: str | None = "a7c3e9f1b5d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dispatch_instance",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("started_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("stopped_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("released_at", storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "scheduler_lease",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=36), nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    # Nullable, no default, in no index: instant on PostgreSQL, claims stay HOT updates.
    op.add_column("delivery", sa.Column("claimed_by", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery") as batch_op:
        batch_op.drop_column("claimed_by")
    op.drop_table("scheduler_lease")
    op.drop_table("dispatch_instance")
