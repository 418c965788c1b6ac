"""How many deliveries of each bulletin stand in each status: counters the tracking page reads.

`delivery_tally` holds, per bulletin × audience × played audience × channel × status × confirm
method, a number of deliveries (purpose `bulletin` only; an absent played audience or method
is ''). The database keeps it itself, in the very statement that writes a delivery: triggers
on `delivery` (insert, update, delete) move the counts, so that no writer — the dispatcher's
claims and outcomes, a confirmation, a cancelled cascade, a call logged, a bulk insert — can
forget them, and each status change is counted in its own transaction. The triggers and the
backfill are migration d5e1a7c3f9b2's.

SQLite (one writer at a time) adds to one `settled` row per key (a row trigger, an upsert).
PostgreSQL writers run side by side: a statement trigger appends one delta row per key the
statement moved (`settled` false, a count that may be negative), without touching any row
another transaction may hold, so that claims never wait on each other nor deadlock here;
`compact` (the leader's tick) folds the deltas into the settled rows every few seconds.
A bulletin's figures are the sum of its rows either way: a few dozen rows, whatever the
number of its deliveries.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Field, SQLModel

from crisis.dispatch.rows import Delivery, Purpose

KEY = ("bulletin_id", "audience", "played_audience", "channel", "status", "confirm_method")
COMPACTED_PER_PASS = 200
"""Bulletins whose deltas one `compact` folds (the rest on the next pass)."""


class DeliveryTally(SQLModel, table=True):
    __tablename__ = "delivery_tally"
    __table_args__ = (
        sa.Index(
            "ux_delivery_tally_settled",
            *KEY,
            unique=True,
            postgresql_where=sa.text("settled"),
            sqlite_where=sa.text("settled"),
        ),
        sa.Index(
            "ix_delivery_tally_deltas",
            "bulletin_id",
            postgresql_where=sa.text("NOT settled"),
            sqlite_where=sa.text("NOT settled"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    bulletin_id: int
    audience: str = Field(max_length=20)
    played_audience: str = Field(default="", max_length=20)
    channel: str = Field(max_length=20)
    status: str = Field(max_length=20)
    confirm_method: str = Field(default="", max_length=20)
    settled: bool = True
    deliveries: int = 0


TALLY = DeliveryTally.__table__  # type: ignore[attr-defined]
_D = Delivery.__table__  # type: ignore[attr-defined]


def _key_columns(table: sa.Table) -> list[sa.ColumnElement[str]]:
    return [table.c[name] for name in KEY]


def figures(
    bulletin_id: int, *, status: str | None = None, audience: str | None = None
) -> sa.Select[tuple[str, str, str, str, str, int]]:
    """(status, audience, played audience, channel, confirm method, deliveries) of a bulletin,
    from its counters; None where the delivery has none, as in `recount`."""
    t = TALLY.c
    where = [t.bulletin_id == bulletin_id]
    if status:
        where.append(t.status == status)
    if audience:
        where.append(t.audience == audience)
    played, method = sa.func.nullif(t.played_audience, ""), sa.func.nullif(t.confirm_method, "")
    total = sa.func.sum(t.deliveries)
    return (
        sa.select(t.status, t.audience, played, t.channel, method, total)
        .where(*where)
        .group_by(t.status, t.audience, t.played_audience, t.channel, t.confirm_method)
        .having(total != 0)
    )


def recount(
    bulletin_id: int | None = None,
) -> sa.Select[tuple[int, str, str, str, str, str, int]]:
    """The same figures from the deliveries themselves (`GROUP BY`): what the counters must
    always equal; every bulletin's, or one's. The migration's backfill, and the tests' oracle."""
    d = _D.c
    columns = (d.bulletin_id, d.status, d.audience, d.played_audience, d.channel, d.confirm_method)
    where = [d.purpose == Purpose.BULLETIN.value, d.bulletin_id.is_not(None)]
    if bulletin_id is not None:
        where.append(d.bulletin_id == bulletin_id)
    return sa.select(*columns, sa.func.count()).where(*where).group_by(*columns)


async def compact(conn: AsyncConnection, *, limit: int = COMPACTED_PER_PASS) -> int:
    """Fold the delta rows of up to `limit` bulletins into their settled rows (PostgreSQL; on
    SQLite there are none); the number of bulletins folded.

    One statement per pass: the deltas deleted, summed per key and added to the settled rows.
    Deltas appended meanwhile by other transactions are not in its snapshot: the next pass
    folds them."""
    t = TALLY.c
    found = await conn.execute(
        sa.select(t.bulletin_id).where(sa.text("NOT settled")).distinct().limit(limit)
    )
    bulletins: Sequence[int] = found.scalars().all()
    if not bulletins:
        return 0
    key = ", ".join(KEY)
    await conn.execute(
        sa.text(
            f"WITH gone AS (DELETE FROM delivery_tally WHERE NOT settled"  # noqa: S608
            f" AND bulletin_id IN :bulletins RETURNING {key}, deliveries)"
            f" INSERT INTO delivery_tally ({key}, settled, deliveries)"
            f" SELECT {key}, true, sum(deliveries) FROM gone GROUP BY {key}"
            f" ON CONFLICT ({key}) WHERE settled"
            " DO UPDATE SET deliveries = delivery_tally.deliveries + excluded.deliveries"
        ).bindparams(sa.bindparam("bulletins", expanding=True)),
        {"bulletins": list(bulletins)},
    )
    return len(bulletins)
