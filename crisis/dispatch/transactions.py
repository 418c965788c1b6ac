"""What the dispatcher needs of the database (``crisis.app.db.Database`` fits), and its writes
that may meet SQLite's lock retried with a bound.

SQLite has one writer at a time: the web process publishing a large bulletin holds the lock
while the worker wants to claim or recover deliveries. Such a write waits a brief while for
the lock (``Database.brief_transaction``, 1 s), then is tried again a few times after a short
pause; past the bound it raises, and the next tick tries again, instead of one statement
stalling 30 s and the pass with it. PostgreSQL takes row locks: nothing to retry there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol, TypeVar

from sqlalchemy.exc import OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

__all__ = ["Transactions", "is_locked", "write"]

log = logging.getLogger("tocsin.dispatcher")
T = TypeVar("T")
ATTEMPTS = 4
PAUSE_SECONDS = 0.05  # then 0.1, 0.2: with the 1 s wait of each try, under 5 s in all


class Transactions(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[AsyncSession]: ...


def is_locked(error: BaseException) -> bool:
    """SQLite's « database is locked » (its busy timeout ran out while another wrote)."""
    return isinstance(error, OperationalError) and "database is locked" in str(error)


async def write(
    db: Transactions,
    work: Callable[[AsyncSession], Awaitable[T]],
    *,
    attempts: int = ATTEMPTS,
    pause: float = PAUSE_SECONDS,
) -> T:
    """Run ``work`` in one write transaction; on SQLite's lock, roll back and run it again, at
    most ``attempts`` times in all. ``work`` must have no effect outside the transaction."""
    brief = getattr(db, "brief_transaction", db.transaction)
    for attempt in range(1, attempts + 1):
        try:
            async with brief() as session:
                return await work(session)
        except OperationalError as error:
            if not is_locked(error) or attempt == attempts:
                raise
            log.warning("database locked by another writer: try %d of %d", attempt + 1, attempts)
            await asyncio.sleep(pause * 2 ** (attempt - 1))
    raise AssertionError("unreachable")  # pragma: no cover
