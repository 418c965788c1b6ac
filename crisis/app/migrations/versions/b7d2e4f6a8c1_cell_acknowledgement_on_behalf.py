"""cell_acknowledgement: ``on_behalf``, set when the cabinet recorded someone else's answer

``recorded_by`` (the login of who recorded the row) was already there; ``on_behalf`` says that
the answer was recorded by the cabinet for another person (a call answered by phone), so the
row, the journal and every view can say « enregistré par … pour … ». Earlier rows are marked
when the recorder (a user) is not the person who answered, or when a contact was recorded
through the API: these are the rows the fix of issue 15 item 3 now refuses to anyone but the
cabinet.

Revision ID: b7d2e4f6a8c1
Revises: a7c4e9b2d815
Create Date: 2026-12-04 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b7d2e4f6a8c1'
down_revision: str | None = 'a7c4e9b2d815'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORDED_FOR_SOMEONE_ELSE = """
UPDATE cell_acknowledgement SET on_behalf = true
WHERE via = 'api' AND NOT EXISTS (
    SELECT 1 FROM user_account u
    WHERE u.login = cell_acknowledgement.recorded_by
      AND cell_acknowledgement.person = 'user:' || CAST(u.id AS VARCHAR(20))
)
"""


def upgrade() -> None:
    with op.batch_alter_table('cell_acknowledgement', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('on_behalf', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute(RECORDED_FOR_SOMEONE_ELSE)


def downgrade() -> None:
    with op.batch_alter_table('cell_acknowledgement', schema=None) as batch_op:
        batch_op.drop_column('on_behalf')
