"""Each provider account's schedule of sends, in PostgreSQL: the limit of the account, not of
each instance.

A row per account (its key from ``channels.ratelimit.provider_limits``, never a secret) holds
the theoretical arrival time of its next send (GCRA). An instance reserves a few consecutive
slots in one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` on the database's clock, and
spends them through its own pacing (``channels.ratelimit.SharedSlots``): three instances
sending for one Telegram bot share its 30 messages a second. SQLite serves one instance only,
whose buckets in memory are the whole limit: no budget there.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from channels.ratelimit import RateLimiters
from crisis.dispatch.transactions import Transactions
from storage.types import UTCDateTime

__all__ = ["DatabaseBudget", "RateBudget", "shared_limiters"]


class RateBudget(SQLModel, table=True):
    __tablename__ = "rate_budget"

    account_key: str = Field(primary_key=True, max_length=200)
    tat: datetime = Field(sa_type=UTCDateTime)  # when the account's next slot falls due


# channels.ratelimit.reserve_slots, on the database's clock: the slots start at the later of
# the row's tat and now, the row moves on by count / rate, the burst is (capacity - 1) / rate.
_RESERVE = sa.text(
    """
    INSERT INTO rate_budget AS b (account_key, tat)
    VALUES (:key, clock_timestamp() + make_interval(secs => CAST(:span AS float8)))
    ON CONFLICT (account_key) DO UPDATE
    SET tat = GREATEST(b.tat, clock_timestamp()) + make_interval(secs => CAST(:span AS float8))
    RETURNING
        CAST(EXTRACT(EPOCH FROM b.tat) AS float8) - CAST(:span AS float8)
            - CAST(:tolerance AS float8),
        CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS float8)
    """
)


# channels.ratelimit.held_schedule: the next slot after the provider's wait, for every instance.
_HOLD = sa.text(
    """
    INSERT INTO rate_budget AS b (account_key, tat)
    VALUES (:key, clock_timestamp() + make_interval(secs => CAST(:hold AS float8)))
    ON CONFLICT (account_key) DO UPDATE
    SET tat = GREATEST(b.tat, clock_timestamp() + make_interval(secs => CAST(:hold AS float8)))
    """
)


class DatabaseBudget:
    """The ``channels.ratelimit.Budget`` of instances sharing one PostgreSQL database."""

    def __init__(self, db: Transactions) -> None:
        self._db = db

    async def reserve(
        self, key: str, *, rate: float, capacity: float, count: int
    ) -> tuple[float, float]:
        params = {"key": key, "span": count / rate, "tolerance": (capacity - 1.0) / rate}
        async with self._db.transaction() as session:
            first, now = (await session.execute(_RESERVE, params)).one()
        return float(first), float(now)

    async def hold(self, key: str, *, seconds: float, rate: float, capacity: float) -> None:
        params = {"key": key, "hold": seconds + (capacity - 1.0) / rate}
        async with self._db.transaction() as session:
            await session.execute(_HOLD, params)


def shared_limiters(db: Transactions) -> RateLimiters:
    """The rate limiters of one instance: on PostgreSQL, the accounts' budgets are shared
    with every instance on the database; on SQLite the process' own buckets."""
    if getattr(db, "dialect", None) == "postgresql":
        return RateLimiters(budget=DatabaseBudget(db))
    return RateLimiters()
