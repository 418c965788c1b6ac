"""inbound update and sender index: Telegram updates already handled; replies' sender lookup

`inbound_update` holds the `(source, update_id)` of each Telegram update handled, for a
few days, so that a redelivered update changes nothing (`crisis/inbound_updates.py`).
`ix_contact_channel_kind_address` serves the lookup of a reply's sender by channel and
address (`crisis/replies.py`).

Revision ID: d4e8a1f0b2c3
Revises: c67947bc030d
Create Date: 2026-12-02 05:30:35.651134
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "d4e8a1f0b2c3"
down_revision: str | None = "c67947bc030d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbound_update",
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("received_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "update_id"),
    )
    op.create_index("ix_inbound_update_received_at", "inbound_update", ["received_at"])
    op.create_index("ix_contact_channel_kind_address", "contact_channel", ["kind", "address"])


def downgrade() -> None:
    op.drop_index("ix_contact_channel_kind_address", table_name="contact_channel")
    op.drop_index("ix_inbound_update_received_at", table_name="inbound_update")
    op.drop_table("inbound_update")
