"""Scheduler leadership that proves liveness: a lease row, renewed, with a fencing token.

On PostgreSQL the leader holds the row ``scheduler_lease`` named ``scheduler``: one atomic
statement takes it when it has expired (or renews it for its holder), for ``ttl`` seconds of
the database's clock, and increments its ``token`` whenever the holder changes. The leader
renews every ~2 s; one that fails to renew in time (frozen, cut off) stops acting once its
lease has run out by its own monotonic clock, and another instance takes the row over.

Every leader-only write transaction opens with ``Lease.check``: the row must still name this
holder with the same token and be unexpired, read ``FOR SHARE`` so that no takeover commits
before the transaction does. A leader paused and resumed thus cannot act on its stale token;
and one paused inside such a transaction does not hold the lock for ever: PostgreSQL ends its
session after the lease's length idle, so that another instance can take over.

On SQLite the single instance always leads; no row is needed.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.app.db import Database
from storage.types import UTCDateTime

__all__ = ["Fenced", "Lease", "LostLeadership", "SchedulerLease"]

SCHEDULER = "scheduler"


class LostLeadership(Exception):
    """This instance no longer holds the scheduler lease: a leader-only write is refused."""


class SchedulerLease(SQLModel, table=True):
    __tablename__ = "scheduler_lease"

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=36)  # the holding instance's id
    token: int = Field(sa_type=sa.BigInteger)  # incremented on each new holder
    expires_at: datetime = Field(sa_type=UTCDateTime)


_ACQUIRE = sa.text(
    "INSERT INTO scheduler_lease (name, holder, token, expires_at)"
    " VALUES (:name, :me, 1, now() + make_interval(secs => :ttl))"
    " ON CONFLICT (name) DO UPDATE SET holder = :me,"
    " token = CASE WHEN scheduler_lease.holder = :me THEN scheduler_lease.token"
    " ELSE scheduler_lease.token + 1 END,"
    " expires_at = now() + make_interval(secs => :ttl)"
    " WHERE scheduler_lease.expires_at < now() OR scheduler_lease.holder = :me"
    " RETURNING token"
)
# The check also bounds how long this transaction may sit idle: a leader frozen inside it
# (SIGSTOP) would hold the FOR SHARE lock, and no takeover could commit, for ever; PostgreSQL
# ends its session once it has been idle for the lease's length, and the lock goes with it.
_CHECK = sa.text(
    "SELECT set_config('idle_in_transaction_session_timeout', :idle, true)"
    " FROM scheduler_lease WHERE name = :name AND holder = :me AND token = :token"
    " AND expires_at > now() FOR SHARE"
)
# A takeover waits at most this long for a leader's transaction, then tries at the next beat
# (waiting longer would stop the instance's heartbeats with it). The holder's renewal waits
# as long as its own leader-only transactions take.
_WAIT_BRIEFLY = sa.text("SELECT set_config('lock_timeout', '1000', true)")


@dataclass
class Lease:
    """One instance's view of the scheduler lease."""

    db: Database
    holder: str
    ttl_seconds: float = 8.0
    name: str = SCHEDULER
    monotonic: Callable[[], float] = time.monotonic
    token: int | None = None
    _valid_until: float = 0.0

    @property
    def single(self) -> bool:
        return self.db.dialect != "postgresql"

    @property
    def held(self) -> bool:
        """Held now by this instance's own clock: a renewal is not older than the lease."""
        if self.single:
            return True
        return self.token is not None and self.monotonic() < self._valid_until

    async def refresh(self) -> bool:
        """Take or renew the lease; True if this instance holds it now."""
        if self.single:
            return True
        asked = self.monotonic()  # the lease runs from before the request at the latest
        async with self.db.transaction() as session:
            if self.token is None:  # a takeover; the holder's renewal waits for its own ticks
                await session.execute(_WAIT_BRIEFLY)
            token = await session.scalar(
                _ACQUIRE, {"name": self.name, "me": self.holder, "ttl": self.ttl_seconds}
            )
        if token is None:
            self.token = None
            return False
        self.token = int(token)
        self._valid_until = asked + self.ttl_seconds
        return True

    async def release(self) -> None:
        """At a clean stop: let the next leader take over at once."""
        if self.single or self.token is None:
            return
        async with self.db.transaction() as session:
            await session.execute(
                sa.text(
                    "UPDATE scheduler_lease SET expires_at = now() - interval '1 second'"
                    " WHERE name = :name AND holder = :me AND token = :token"
                ),
                {"name": self.name, "me": self.holder, "token": self.token},
            )
        self.token = None

    async def check(self, session: AsyncSession) -> None:
        """Inside a leader-only transaction: go on only if the lease is still ours."""
        if self.single:
            return
        if not self.held:
            raise LostLeadership
        idle = str(max(1, round(self.ttl_seconds * 1000)))  # milliseconds
        found = await session.scalar(
            _CHECK, {"name": self.name, "me": self.holder, "token": self.token, "idle": idle}
        )
        if found is None:
            self.token = None
            raise LostLeadership


class Fenced(Database):
    """The same database, each write transaction first checking the lease (leader-only ticks
    receive it in place of the plain one)."""

    def __init__(self, db: Database, lease: Lease) -> None:
        super().__init__(db.engine)
        self.lease = lease

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with super().transaction() as session:
            await self.lease.check(session)
            yield session

    brief_transaction = transaction  # no write around the fence


def lease_for(db: Database, *, holder: str, ttl: timedelta) -> Lease:
    return Lease(db=db, holder=holder, ttl_seconds=ttl.total_seconds())
