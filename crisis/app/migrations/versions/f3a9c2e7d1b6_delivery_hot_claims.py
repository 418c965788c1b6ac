"""delivery: claims that write no index entry (settled rows have no next_attempt_at)

A claim sets ``status``, ``attempts`` and ``lease_until``; once no index holds or filters on
them, PostgreSQL writes the claim as a HOT update (the new row version on the same page, no
index entry), given room on the page: ``fillfactor`` 50. The claim indexes now hold the rows
with a ``next_attempt_at``, which recording an outcome clears once the delivery is settled;
a check constraint ties the two. ``ix_delivery_lease`` goes (lease recovery reads the claim
index), ``ix_delivery_message_id`` too (a delivery is read to its message, never the other
way), and ``ix_delivery_cascade_group`` holds only the rows of a cascade.

Revision ID: f3a9c2e7d1b6
Revises: e2f9c3a1b4d5
Create Date: 2026-12-02 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = 'f3a9c2e7d1b6'
down_revision: str | None = 'e2f9c3a1b4d5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNSETTLED = "status IN ('pending', 'retrying', 'sending')"
SCHEDULED = "next_attempt_at IS NOT NULL"
CHECK = f"({UNSETTLED}) = ({SCHEDULED})"

# (name, columns, predicate) before and after.
BEFORE = (
    ('ix_delivery_claim', ['next_attempt_at', 'id'], "status IN ('pending', 'retrying')"),
    (
        'ix_delivery_claim_urgent',
        ['next_attempt_at', 'id'],
        "status IN ('pending', 'retrying') AND purpose <> 'bulletin'",
    ),
    ('ix_delivery_lease', ['lease_until'], "status = 'sending'"),
    (
        'ix_delivery_cascade_waiting',
        ['next_attempt_at'],
        "status = 'pending' AND cascade_group IS NOT NULL",
    ),
    ('ix_delivery_cascade_group', ['cascade_group'], None),
    ('ix_delivery_message_id', ['message_id'], None),
)
AFTER = (
    ('ix_delivery_claim', ['next_attempt_at', 'id'], SCHEDULED),
    ('ix_delivery_claim_urgent', ['next_attempt_at', 'id'], f"{SCHEDULED} AND purpose <> 'bulletin'"),
    ('ix_delivery_cascade_waiting', ['next_attempt_at'], f"{SCHEDULED} AND cascade_group IS NOT NULL"),
    ('ix_delivery_cascade_group', ['cascade_group'], 'cascade_group IS NOT NULL'),
)


def _create(indexes: Sequence[tuple[str, list[str], str | None]]) -> None:
    for name, columns, where in indexes:
        options = {} if where is None else {
            'postgresql_where': sa.text(where), 'sqlite_where': sa.text(where)
        }
        op.create_index(name, 'delivery', columns, unique=False, **options)


def _drop(indexes: Sequence[tuple[str, list[str], str | None]]) -> None:
    for name, _, _ in indexes:
        op.drop_index(name, table_name='delivery')


def _next_attempt_at(*, nullable: bool) -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.alter_column(
            'next_attempt_at',
            existing_type=storage.types.UTCDateTime(timezone=True),
            nullable=nullable,
        )


def upgrade() -> None:
    _drop(BEFORE)
    _next_attempt_at(nullable=True)
    op.execute(f"UPDATE delivery SET next_attempt_at = NULL WHERE NOT ({UNSETTLED})")
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_check_constraint('ck_delivery_scheduled', sa.text(CHECK))
    _create(AFTER)
    if op.get_context().dialect.name == 'postgresql':
        op.execute('ALTER TABLE delivery SET (fillfactor = 50)')


def downgrade() -> None:
    if op.get_context().dialect.name == 'postgresql':
        op.execute('ALTER TABLE delivery RESET (fillfactor)')
    _drop(AFTER)
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_constraint('ck_delivery_scheduled', type_='check')
    op.execute('UPDATE delivery SET next_attempt_at = created_at WHERE next_attempt_at IS NULL')
    _next_attempt_at(nullable=False)
    _create(BEFORE)
