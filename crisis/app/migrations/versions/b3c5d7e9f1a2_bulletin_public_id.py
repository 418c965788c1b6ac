"""bulletin public id: the unguessable name of a bulletin on the public pages (issue 18 item 2)

`/public/bulletins/{public_id}` used to take the sequential row id, so anyone could walk every
bulletin, the mayors-only ones included. Each bulletin now carries `public_id`, 128 random bits
in URL-safe base64 (22 characters), drawn at creation; the rows written before get theirs here.
Only a bulletin published to the public audience is served under it.

Revision ID: b3c5d7e9f1a2
Revises: a7d3e9f1c2b4
Create Date: 2026-12-04 16:00:00.000000
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b3c5d7e9f1a2'
down_revision: str | None = 'a7d3e9f1c2b4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('bulletin', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_id', sa.String(length=32), nullable=True))
    bulletin = sa.table('bulletin', sa.column('id', sa.Integer), sa.column('public_id'))
    connection = op.get_bind()
    ids = connection.execute(sa.select(bulletin.c.id)).scalars().all()
    for row_id in ids:
        connection.execute(
            bulletin.update()
            .where(bulletin.c.id == row_id)
            .values(public_id=secrets.token_urlsafe(16))
        )
    with op.batch_alter_table('bulletin', schema=None) as batch_op:
        batch_op.alter_column('public_id', existing_type=sa.String(length=32), nullable=False)
        batch_op.create_index(batch_op.f('ix_bulletin_public_id'), ['public_id'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('bulletin', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bulletin_public_id'))
        batch_op.drop_column('public_id')
