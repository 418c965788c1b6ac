"""bulletin x thread: a bulletin may ask for an X thread; an outbox message keeps its posts

`bulletin.x_thread` is false for every bulletin written before (their content hash is
unchanged: the digest names the option only when it is set). `outbox_message.thread` holds
an X thread's posts in order, NULL for a single message.

Revision ID: c67947bc030d
Revises: c1a7e5d20f31
Create Date: 2026-12-02 00:58:31.755755
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c67947bc030d'
down_revision: str | None = 'c1a7e5d20f31'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('bulletin', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('x_thread', sa.Boolean(), nullable=False, server_default=sa.false())
        )

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thread', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('thread')

    with op.batch_alter_table('bulletin', schema=None) as batch_op:
        batch_op.drop_column('x_thread')
