"""The dispatcher's SQL: claim due deliveries and record outcomes (recoveries: `recovery`).

A claim marks rows ``sending`` with a lease and increments ``attempts`` in one short
transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so instances never claim the same row;
SQLite has one writer). ``attempts`` is the fencing token: an outcome is recorded only if the
row is still ``sending`` with the attempt that was claimed, so a slow sender whose lease was
recovered by another instance cannot overwrite the newer attempt.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.dispatch import reach
from crisis.dispatch.outbox import Delivery, DeliveryStatus, OutboxMessage, Purpose
from crisis.dispatch.rows import CLAIMABLE, URGENT

__all__ = [
    "CLAIMABLE",
    "Claimed",
    "Rendered",
    "Update",
    "claim",
    "count_due",
    "crisis_modes",
    "plan_claims",
    "record",
    "renderings",
]

DELIVERY = Delivery.metadata.tables[Delivery.__tablename__]
MESSAGE = OutboxMessage.metadata.tables[OutboxMessage.__tablename__]
# The one fact of the crisis record the dispatcher needs, its mode, read at send time; the
# dispatch wing does not import the cell wing that owns the table.
CRISIS = sa.table("crisis", sa.column("id", sa.Integer), sa.column("mode", sa.String))


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    message_id: int
    crisis_id: int | None
    audience: str
    channel: str
    address: str
    recipient_name: str
    idempotency_key: str
    attempts: int  # including the one just claimed
    created_at: datetime
    purpose: str

    @property
    def urgent(self) -> bool:
        """A staff alert (page, clock alert, test to oneself): sent before any bulletin."""
        return self.purpose != Purpose.BULLETIN


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str | None
    link: str | None
    thread: tuple[str, ...] = ()  # an X thread's posts
    cap: str | None = None  # a public bulletin's CAP alert (XML), on its webhook message


@dataclass(frozen=True, slots=True)
class Update:
    """The outcome of one claimed attempt, as it is written back."""

    id: int
    attempts: int
    status: DeliveryStatus
    error: str | None = None
    provider_id: str | None = None
    sent_at: datetime | None = None
    next_attempt_at: datetime | None = None


# ``ix_delivery_claim (next_attempt_at, id)`` holds the deliveries not yet settled: a claim
# reads its batch off it in claim order instead of sorting every due row (which made a
# fan-out quadratic in its size), passing over the few being sent (by this instance or
# another); ``ix_delivery_claim_urgent`` holds the staff alerts among them. ``next_attempt_at
# <= :now`` implies the indexes' ``next_attempt_at IS NOT NULL`` for both planners.
def _claim_sqlite(index: str, where: str) -> sa.TextClause:
    """SQLite's claim, the index named (its planner otherwise sorts); built from constants."""
    return sa.text(
        f"SELECT id FROM delivery INDEXED BY {index} WHERE {where}"  # noqa: S608
        " AND next_attempt_at <= :now ORDER BY next_attempt_at, id LIMIT :limit"
    )


_CLAIM_SQLITE = _claim_sqlite("ix_delivery_claim", CLAIMABLE)
_CLAIM_SQLITE_URGENT = _claim_sqlite("ix_delivery_claim_urgent", f"{CLAIMABLE} AND {URGENT}")


# PostgreSQL: before the first ANALYZE of a fresh fan-out the planner expects a handful of due
# rows, so it reads every one of them (bitmap or sequential scan) and sorts them on each
# claim: 130 ms per claim with 100,000 due rows, against 8 ms reading the claim index in
# order. The claim's transaction reads nothing else but by primary key.
_READ_THE_INDEX = sa.text(  # SET LOCAL of both, in one round trip
    "SELECT set_config('enable_bitmapscan', 'off', true), set_config('enable_seqscan', 'off', true)"
)


async def plan_claims(connection: AsyncConnection) -> None:
    """Make this transaction's claims read the claim index in claim order."""
    if connection.dialect.name == "postgresql":
        await connection.execute(_READ_THE_INDEX)


def _due_ids(dialect: str, *, now: datetime, limit: int, urgent: bool) -> sa.SelectBase:
    columns = DELIVERY.c
    if dialect == "sqlite":  # one writer: no row locks, and the planner needs the index named
        return (
            (_CLAIM_SQLITE_URGENT if urgent else _CLAIM_SQLITE)
            .bindparams(
                sa.bindparam("now", now, type_=columns.next_attempt_at.type),
                sa.bindparam("limit", limit),
            )
            .columns(columns.id)
        )
    query = sa.select(columns.id).where(sa.text(CLAIMABLE), columns.next_attempt_at <= now)
    if urgent:
        query = query.where(sa.text(URGENT))
    return (
        query.order_by(columns.next_attempt_at, columns.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


async def claim(
    session: AsyncSession,
    *,
    now: datetime,
    limit: int,
    lease: timedelta,
    claimant: str | None = None,
) -> list[Claimed]:
    """Mark up to ``limit`` due deliveries ``sending`` and return them, staff alerts first.

    A page or a clock alert must not wait behind the 100,000 e-mails of a fan-out published
    before it: due staff alerts are claimed first (their own small partial index), then the
    rest in due order.
    """
    connection = await session.connection()
    await plan_claims(connection)
    values: dict[str, object] = {"lease_until": now + lease, "claimed_by": claimant}
    urgent = await _claim(connection, now=now, limit=limit, values=values, urgent=True)
    if len(urgent) == limit:
        return urgent
    rest = await _claim(connection, now=now, limit=limit - len(urgent), values=values, urgent=False)
    return urgent + rest


async def _claim(
    connection: AsyncConnection,
    *,
    now: datetime,
    limit: int,
    values: dict[str, object],
    urgent: bool,
) -> list[Claimed]:
    columns = DELIVERY.c
    due = _due_ids(connection.dialect.name, now=now, limit=limit, urgent=urgent)
    rows = (
        await connection.execute(
            sa.update(DELIVERY)
            .where(columns.id.in_(due))
            .values(
                status=DeliveryStatus.SENDING,
                attempts=columns.attempts + 1,
                **values,
            )
            .returning(  # in the order of ``Claimed``'s fields
                columns.id,
                columns.message_id,
                columns.crisis_id,
                columns.audience,
                columns.channel,
                columns.address,
                columns.recipient_name,
                columns.idempotency_key,
                columns.attempts,
                columns.created_at,
                columns.purpose,
            )
        )
    ).all()
    return sorted((Claimed(*row) for row in rows), key=lambda item: item.id)


async def crisis_modes(session: AsyncSession, *, ids: Iterable[int]) -> dict[int, str]:
    """The mode of each crisis, read now: never a flag copied on a row."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await (await session.connection()).execute(
        sa.select(CRISIS.c.id, CRISIS.c.mode).where(CRISIS.c.id.in_(wanted))
    )
    return {row.id: row.mode for row in rows}


async def renderings(session: AsyncSession, *, ids: Iterable[int]) -> dict[int, Rendered]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    columns = MESSAGE.c
    rows = await (await session.connection()).execute(
        sa.select(
            columns.id,
            columns.subject,
            columns.text,
            columns.html,
            columns.link,
            columns.thread,
            columns.cap,
        ).where(columns.id.in_(wanted))
    )
    return {
        row.id: Rendered(
            row.subject, row.text, row.html, row.link, tuple(row.thread or ()), row.cap
        )
        for row in rows
    }


# SQLite: a whole batch in one statement too, its rows passed as one JSON array that SQLite
# reads in C (``json_each``), rather than one ``executemany`` row bound by Python at a time.
_RECORD_SQLITE = sa.text(
    "UPDATE delivery SET status = u.status, last_error = u.error,"
    " provider_id = coalesce(u.provider, delivery.provider_id),"
    " sent_at = coalesce(u.sent_at, delivery.sent_at),"
    " next_attempt_at = u.next, lease_until = NULL"
    " FROM (SELECT value ->> 0 AS id, value ->> 1 AS attempts, value ->> 2 AS status,"
    " value ->> 3 AS error, value ->> 4 AS provider, value ->> 5 AS sent_at,"
    " value ->> 6 AS next FROM json_each(:batch)) AS u"
    " WHERE delivery.id = u.id AND delivery.status = 'sending'"
    " AND delivery.attempts = u.attempts"
)


# PostgreSQL: a whole batch in one statement over arrays (one plan, one executor run)
# rather than one UPDATE execution per row.
_RECORD_POSTGRES = sa.text(
    "UPDATE delivery AS d SET status = u.status, last_error = u.error,"
    " provider_id = coalesce(u.provider, d.provider_id),"
    " sent_at = coalesce(u.sent_at, d.sent_at),"
    " next_attempt_at = u.next, lease_until = NULL"
    " FROM unnest(CAST(:ids AS INTEGER[]), CAST(:attempts AS INTEGER[]),"
    " CAST(:statuses AS VARCHAR[]), CAST(:errors AS VARCHAR[]),"
    " CAST(:providers AS VARCHAR[]), CAST(:sent AS TIMESTAMPTZ[]),"
    " CAST(:next AS TIMESTAMPTZ[]))"
    " AS u(id, attempts, status, error, provider, sent_at, next)"
    " WHERE d.id = u.id AND d.status = 'sending' AND d.attempts = u.attempts"
)


async def record(session: AsyncSession, *, updates: Sequence[Update]) -> None:
    """Write a batch of outcomes in one statement.

    ``next_attempt_at`` is the retry's instant, or nothing once settled (sent, failed): the
    row then leaves the claim indexes.
    """
    if not updates:
        return
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await connection.execute(
            _RECORD_POSTGRES,
            {
                "ids": [u.id for u in updates],
                "attempts": [u.attempts for u in updates],
                "statuses": [u.status.value for u in updates],
                "errors": [u.error for u in updates],
                "providers": [u.provider_id for u in updates],
                "sent": [u.sent_at for u in updates],
                "next": [u.next_attempt_at for u in updates],
            },
        )
    else:
        await _record_sqlite(connection, updates)
    sent = [u.id for u in updates if u.status == DeliveryStatus.SENT]
    await reach.refresh_deliveries(connection, sent)  # ES48's figures, same transaction


async def _record_sqlite(connection: AsyncConnection, updates: Sequence[Update]) -> None:
    batch = [
        [
            u.id,
            u.attempts,
            u.status.value,
            u.error,
            u.provider_id,
            _sqlite_instant(u.sent_at),
            _sqlite_instant(u.next_attempt_at),
        ]
        for u in updates
    ]
    await connection.execute(_RECORD_SQLITE, {"batch": json.dumps(batch)})


def _sqlite_instant(value: datetime | None) -> str | None:
    """An instant as SQLAlchemy stores it on SQLite (UTC, no offset, microseconds), so that
    it compares as text with every other one."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


async def count_due(session: AsyncSession, *, now: datetime) -> int:
    columns = DELIVERY.c
    value = await session.scalar(
        sa.select(sa.func.count())
        .select_from(DELIVERY)
        .where(sa.text(CLAIMABLE), columns.next_attempt_at <= now)
    )
    return int(value or 0)
