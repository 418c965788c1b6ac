"""bulletin editors: who changed a bulletin's text after its author (four eyes, issue 15 item 1)

`bulletin.editors` lists, once each and in the order of their first edit, the people who
changed the text after its author (`[{"user_id": …, "login": …}]`); none of them may approve
or reject it. Bulletins written before have no recorded editor: `[]`.

Revision ID: a7d3e9f1c2b4
Revises: b7d2e4f6a8c1
Create Date: 2026-12-04 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a7d3e9f1c2b4'
down_revision: str | None = 'b7d2e4f6a8c1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('bulletin', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('editors', sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table('bulletin', schema=None) as batch_op:
        batch_op.drop_column('editors')
