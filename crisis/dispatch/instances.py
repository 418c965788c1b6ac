"""The worker instances alive on one database, by their heartbeats.

Each worker process registers a row when it starts (a new id per start, named after its host
and pid), beats every few seconds, and marks ``stopped_at`` when it stops cleanly. Its claims
carry its id (``delivery.claimed_by``): when an instance stops beating (killed, frozen, its
host gone) or has stopped, any live instance puts the deliveries it left ``sending`` back to
``retrying``, due now, with the same idempotency key, within seconds instead of after the
dispatcher's long lease.

On PostgreSQL every instant here is the database's (``now()``), so that the hosts' clocks do
not matter; SQLite serves a single instance, which uses the instant it is given.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.dispatch import interruptions, recovery, store
from storage.types import UTCDateTime

__all__ = [
    "DEAD_AFTER",
    "DispatchInstance",
    "beat",
    "instance_name",
    "live_instances",
    "new_instance_id",
    "recover_dead",
    "register",
    "stopped",
]

DEAD_AFTER = timedelta(seconds=6)  # heartbeats every 2 s: three missed ones


class DispatchInstance(SQLModel, table=True):
    __tablename__ = "dispatch_instance"

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=200)  # host and pid, for people reading the table
    started_at: datetime = Field(sa_type=UTCDateTime)
    heartbeat_at: datetime = Field(sa_type=UTCDateTime)
    stopped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When another instance put this one's claims back (it died or stopped); a beat clears it.
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


INSTANCE = DispatchInstance.metadata.tables[DispatchInstance.__tablename__]


def new_instance_id() -> str:
    return str(uuid.uuid4())


def instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


async def _now(
    session: AsyncSession, now: datetime, *, minus: timedelta = timedelta(0)
) -> sa.ColumnElement[datetime]:
    """The database's clock (less ``minus``) on PostgreSQL; ``now`` on SQLite (one host)."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        return sa.func.now() - minus if minus else sa.func.now()
    return sa.literal(now - minus, UTCDateTime)


async def register(session: AsyncSession, *, instance_id: str, name: str, now: datetime) -> None:
    current = await _now(session, now)
    await session.execute(
        sa.insert(INSTANCE).values(
            id=instance_id, name=name, started_at=current, heartbeat_at=current
        )
    )


async def beat(session: AsyncSession, *, instance_id: str, now: datetime) -> None:
    """This instance is alive (and, if it was given up for dead while frozen, again counted)."""
    current = await _now(session, now)
    await session.execute(
        sa.update(INSTANCE)
        .where(INSTANCE.c.id == instance_id)
        .values(heartbeat_at=current, released_at=None)
    )


async def stopped(session: AsyncSession, *, instance_id: str, now: datetime) -> None:
    current = await _now(session, now)
    await session.execute(
        sa.update(INSTANCE).where(INSTANCE.c.id == instance_id).values(stopped_at=current)
    )


async def live_instances(session: AsyncSession, *, dead_after: timedelta = DEAD_AFTER) -> int:
    """How many worker instances are alive now (beat within ``dead_after``, not stopped); at
    least 1 (the caller's own). On SQLite, always 1: a single instance serves one file."""
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        return 1
    count = await session.scalar(
        sa.select(sa.func.count())
        .select_from(INSTANCE)
        .where(
            INSTANCE.c.stopped_at.is_(None), INSTANCE.c.heartbeat_at > sa.func.now() - dead_after
        )
    )
    return max(int(count or 0), 1)


async def recover_dead(
    session: AsyncSession, *, me: str, now: datetime, dead_after: timedelta = DEAD_AFTER
) -> int:
    """Put back the deliveries of every instance that stopped or stopped beating; returns how
    many. Cheap when none died: one read of the (small) instance table. Each bulletin whose
    sends were cut off gets a journal entry with each channel's guarantee after a crash."""
    current = await _now(session, now)
    silent_since = await _now(session, now, minus=dead_after)
    dead = (
        sa.select(INSTANCE.c.id)
        .where(
            INSTANCE.c.id != me,
            INSTANCE.c.released_at.is_(None),
            sa.or_(INSTANCE.c.stopped_at.is_not(None), INSTANCE.c.heartbeat_at < silent_since),
        )
        .with_for_update(skip_locked=True)
    )
    ids = list((await session.execute(dead)).scalars())
    if not ids:
        return 0
    cut_off = await interruptions.sending(session, where=store.DELIVERY.c.claimed_by.in_(ids))
    recovered = await recovery.recover_claims(session, claimants=ids, now=now)
    await interruptions.journal_them(session, cut_off, now=now)
    await session.execute(
        sa.update(INSTANCE).where(INSTANCE.c.id.in_(ids)).values(released_at=current)
    )
    return recovered
