"""delivery: partial indexes for leases, waiting cascade ranks and urgent claims

A status change rewrites every index entry of the row; ``ix_delivery_due`` held every
delivery ever made, and was written twice per delivery during a fan-out. The claim index
already serves due counts; two partial indexes serve lease recovery and cascades. A third
lets staff alerts (every purpose but ``bulletin``) be claimed before a fan-out's backlog.

Revision ID: e2f9c3a1b4d5
Revises: d4e8a1f0b2c3
Create Date: 2026-12-02 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e2f9c3a1b4d5'
down_revision: str | None = 'd4e8a1f0b2c3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (name, columns, predicate): the partial indexes of ``crisis.outbox.Delivery``.
PARTIAL = (
    ('ix_delivery_lease', ['lease_until'], "status = 'sending'"),
    (
        'ix_delivery_cascade_waiting',
        ['next_attempt_at'],
        "status = 'pending' AND cascade_group IS NOT NULL",
    ),
    (
        'ix_delivery_claim_urgent',
        ['next_attempt_at', 'id'],
        "status IN ('pending', 'retrying') AND purpose <> 'bulletin'",
    ),
)


def upgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_due')
        for name, columns, where in PARTIAL:
            batch_op.create_index(
                name,
                columns,
                unique=False,
                postgresql_where=sa.text(where),
                sqlite_where=sa.text(where),
            )


def downgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        for name, _, _ in reversed(PARTIAL):
            batch_op.drop_index(name)
        batch_op.create_index('ix_delivery_due', ['status', 'next_attempt_at'], unique=False)
