"""Journal entries to verify, and the attacks of someone who writes to the database."""

from __future__ import annotations

import sqlalchemy as sa

from crisis import journal
from crisis.actors import SYSTEM
from crisis.app.db import Database
from tests.support import FrozenClock


async def write_entries(db: Database, clock: FrozenClock, crisis_id: int | None, n: int) -> None:
    """`n` entries, one transaction and one second each."""
    for i in range(n):
        async with db.transaction() as session:
            await journal.append(
                session,
                actor=SYSTEM,
                action="test.step",
                now=clock.advance(seconds=1),
                crisis_id=crisis_id,
                payload={"step": i, "texte": "Crue à Abbeville"},
            )


async def cut_tail(db: Database, *, keep: int) -> None:
    """Delete every entry after the `keep` first ones and move the heads back to the last kept
    (every entry of the test belongs to one crisis, so both chains end there)."""
    async with db.engine.begin() as conn:
        query = sa.text("SELECT hash FROM journal_entry WHERE id = :id")
        kept = (await conn.execute(query, {"id": keep})).scalar_one()
        await conn.execute(sa.text("DELETE FROM journal_entry WHERE id > :id"), {"id": keep})
        await conn.execute(
            sa.text("UPDATE journal_head SET length = :n, last_hash = :h"), {"n": keep, "h": kept}
        )


async def wipe(db: Database) -> None:
    """Empty both tables of the journal."""
    async with db.engine.begin() as conn:
        await conn.execute(sa.text("DELETE FROM journal_entry"))
        await conn.execute(sa.text("DELETE FROM journal_head"))
