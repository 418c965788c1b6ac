"""rate budget: each provider account's schedule of sends, shared by every instance

`rate_budget` holds, per account (a key without secrets, `channels.ratelimit`), when its next
send falls due; instances reserve slots in it so that, together, they keep the provider's
limit (issue 17 item 4). Used on PostgreSQL only; created everywhere for one schema.

Revision ID: a9c4e2f7b1d3
Revises: c8e2a4f6b1d9
Create Date: 2026-12-04 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "a9c4e2f7b1d3"
down_revision: str | None = "c8e2a4f6b1d9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_budget",
        sa.Column("account_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("tat", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_key"),
    )


def downgrade() -> None:
    op.drop_table("rate_budget")
