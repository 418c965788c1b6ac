"""The outbox's inserts in bursts, each database its way (the dispatcher's reads: ``store``).

PostgreSQL takes each table of a burst in one statement over arrays; SQLite numbers the
messages itself and inserts in chunks.
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.dispatch import reach
from crisis.dispatch.rows import Delivery, OutboxMessage

__all__ = ["insert_deliveries", "insert_messages"]

# Written once per statement, not as an array: the same for every row of a burst.
_CONSTANTS = frozenset({"purpose", "attempts", "created_at", "thread"})

# PostgreSQL: each table of a burst in one statement over arrays (one plan, one executor run,
# one round trip) rather than one execution per row. The ids follow the arrays' order: the
# rows are sorted by ordinality before the INSERT draws them from the sequence, as SQLAlchemy's
# `sort_by_parameter_order` relies on, and come back sorted.
_MESSAGES_POSTGRES = sa.text(
    "WITH m AS (INSERT INTO outbox_message (crisis_id, bulletin_id, purpose, channel, subject,"
    " text, html, link, exercise, thread, cap, created_at)"
    " SELECT crisis_id, bulletin_id, :purpose, channel, subject, text, html, link, exercise,"
    " thread, cap, CAST(:now AS TIMESTAMPTZ)"
    " FROM unnest(CAST(:crisis_id AS INTEGER[]), CAST(:bulletin_id AS INTEGER[]),"
    " CAST(:channel AS VARCHAR[]),"
    " CAST(:subject AS VARCHAR[]), CAST(:text AS TEXT[]), CAST(:html AS TEXT[]),"
    " CAST(:link AS VARCHAR[]), CAST(:exercise AS BOOLEAN[]), CAST(:thread AS JSON[]),"
    " CAST(:cap AS TEXT[]))"
    " WITH ORDINALITY AS u(crisis_id, bulletin_id, channel, subject, text, html, link, exercise,"
    " thread, cap, n)"
    " ORDER BY n RETURNING id)"
    " SELECT id FROM m ORDER BY id"
)
_DELIVERIES_POSTGRES = sa.text(
    "INSERT INTO delivery (message_id, crisis_id, bulletin_id, purpose, audience,"
    " played_audience, contact_id, recipient_name, channel, address, status, attempts,"
    " next_attempt_at, idempotency_key, cascade_group, cascade_rank, created_at)"
    " SELECT message_id, crisis_id, bulletin_id, :purpose, audience, played_audience,"
    " contact_id, recipient_name, channel, address, status, 0, next_attempt_at,"
    " idempotency_key, cascade_group, cascade_rank, CAST(:now AS TIMESTAMPTZ)"
    " FROM unnest(CAST(:message_id AS INTEGER[]), CAST(:crisis_id AS INTEGER[]),"
    " CAST(:bulletin_id AS INTEGER[]),"
    " CAST(:audience AS VARCHAR[]), CAST(:played_audience AS VARCHAR[]),"
    " CAST(:contact_id AS INTEGER[]), CAST(:recipient_name AS VARCHAR[]),"
    " CAST(:channel AS VARCHAR[]), CAST(:address AS VARCHAR[]), CAST(:status AS VARCHAR[]),"
    " CAST(:next_attempt_at AS TIMESTAMPTZ[]), CAST(:idempotency_key AS VARCHAR[]),"
    " CAST(:cascade_group AS VARCHAR[]), CAST(:cascade_rank AS INTEGER[]))"
    " WITH ORDINALITY AS u(message_id, crisis_id, bulletin_id, audience, played_audience,"
    " contact_id,"
    " recipient_name, channel, address, status, next_attempt_at, idempotency_key,"
    " cascade_group, cascade_rank, n)"
    " ORDER BY n"
)


def _arrays(rows: list[dict[str, object]]) -> dict[str, list[object]]:
    """One array per column of ``rows`` (dicts with the same keys), the constants left out."""
    return {name: [row[name] for row in rows] for name in rows[0] if name not in _CONSTANTS}


async def insert_messages(session: AsyncSession, rows: list[dict[str, object]]) -> list[int]:
    """Insert message rows in one round trip and return their ids, in order.

    SQLite cannot return multi-row ids in parameter order, so SQLAlchemy would insert one row
    per statement: there, the writer holds the database lock (`BEGIN IMMEDIATE`) and numbers the
    rows itself after the highest id (a concurrent writer would hit the primary key, never a
    wrong id). PostgreSQL inserts them in one statement over arrays.
    """
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        threads = [json.dumps(row["thread"]) if row["thread"] else None for row in rows]
        params = _arrays(rows) | {
            "thread": threads,  # JSON travels as text through the driver
            "purpose": rows[0]["purpose"],
            "now": rows[0]["created_at"],
        }
        return list((await conn.execute(_MESSAGES_POSTGRES, params)).scalars())
    highest = (await conn.execute(sa.select(sa.func.max(table.c.id)))).scalar() or 0
    ids = list(range(highest + 1, highest + 1 + len(rows)))
    await conn.execute(
        sa.insert(table), [row | {"id": id_} for row, id_ in zip(rows, ids, strict=True)]
    )
    return ids


async def insert_deliveries(
    session: AsyncSession, rows: list[dict[str, object]], *, purpose: str, now: datetime
) -> None:
    """Insert delivery rows (all of one ``purpose``, written at ``now``) in the transaction."""
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        params = _arrays(rows) | {"purpose": purpose, "now": now}
        await conn.execute(_DELIVERIES_POSTGRES, params)
    else:
        deliveries = Delivery.__table__  # type: ignore[attr-defined]
        for start in range(0, len(rows), 2000):
            await conn.execute(sa.insert(deliveries), rows[start : start + 2000])
    await reach.refresh_rows(conn, rows, purpose=purpose)
