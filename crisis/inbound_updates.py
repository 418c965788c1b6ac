"""Provider updates already handled, so that a redelivered one changes nothing.

Telegram posts an `Update` again when the webhook answered slowly or not at all. The first
arrival of a `(source, update_id)` pair claims it, in the transaction recording the reply:
a redelivery that arrives after that commit finds the row; one that arrives meanwhile (on
another instance) waits for it on PostgreSQL, then finds it. A rolled-back attempt leaves
no row, and the redelivery is handled afresh.

Rows are kept `KEPT`: Telegram keeps an undelivered update 24 hours at most, and picks a
random next `update_id` after a week without updates, so an older row only takes room.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.backend import insert_or_ignore
from storage.types import UTCDateTime

KEPT = timedelta(days=3)


class InboundUpdate(SQLModel, table=True):
    """One provider update handled: `source` names the provider and the inbound lane."""

    __tablename__ = "inbound_update"

    source: str = Field(primary_key=True, max_length=40)
    update_id: int = Field(primary_key=True, sa_type=sa.BigInteger)
    received_at: datetime = Field(sa_type=UTCDateTime, index=True)


UPDATES = InboundUpdate.__table__  # type: ignore[attr-defined]


async def claim(session: AsyncSession, *, source: str, update_id: int, now: datetime) -> bool:
    """True for the first arrival of the update, False for a redelivery of a handled one.

    Also forgets the updates older than `KEPT`, in the same transaction.
    """
    conn = await session.connection()
    stmt = (
        insert_or_ignore(conn, UPDATES, index_elements=["source", "update_id"])
        .values(source=source, update_id=update_id, received_at=now)
        .returning(UPDATES.c.update_id)
    )
    if (await conn.execute(stmt)).first() is None:
        return False
    await conn.execute(sa.delete(UPDATES).where(UPDATES.c.received_at < now - KEPT))
    return True
