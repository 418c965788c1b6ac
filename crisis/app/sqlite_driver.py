"""SQLite statements on the event loop's thread, or in one trip to aiosqlite's thread.

SQLAlchemy's aiosqlite adapter makes a cursor, executes, fetches and closes the cursor, each
step a round trip between the event loop and the connection's thread (≈ 60 µs of CPU each).
This adapter does the four steps in one function run on that thread, queued the way SQLAlchemy
itself queues its isolation-level change. Rows, `lastrowid`, `rowcount` and errors are the
same; server-side cursors (streamed results) keep SQLAlchemy's cursor.

Most statements go further and make no trip at all: they run on the event loop's own thread.
A trip costs little processor time but, while the loop is busy, a wait for the interpreter's
lock on each side, and sqlite3 takes that lock back for every row (up to the 5 ms switch
interval each time). Under the load benchmark's fifty users the web process' loop sat idle
half the time, its pages waiting for their rows, and a 10,000-recipient publication held the
database's write lock for 7 s, the worker's clock alerts waiting behind it. So:

- in `Database.read` and `read_rows` (`inline(Inline.READS)`): `BEGIN`, `SELECT` and the
  closing `ROLLBACK` (a WAL read waits for no lock);
- in `Database.transaction` (`inline(Inline.WRITES)`): every statement once `BEGIN IMMEDIATE`,
  which may wait for another process' lock, has taken it on the connection's thread; `COMMIT`
  (which may checkpoint) keeps the thread too. A write lets the loop run once it has kept it
  `WRITE_SLICE` since it last resumed: a large write does not stall every page, and a small one
  (a call logged at the CIP) commits in one turn of the loop. Under the load benchmark, a turn
  of the busy loop took 0.1 to 0.2 s: a write that let it run after each of its ten statements
  took seconds, and held the database's lock all along.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from enum import Enum
from typing import Any, TypeVar, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    AsyncAdapt_aiosqlite_ss_cursor,
)

T = TypeVar("T")
Outcome = tuple[Any, list[Any], int | None, int]


class Inline(Enum):
    NONE = "none"
    READS = "reads"
    WRITES = "writes"


_INLINE: ContextVar[Inline] = ContextVar("tocsin_sqlite_inline", default=Inline.NONE)
_RESUMED: ContextVar[float] = ContextVar("tocsin_sqlite_resumed", default=0.0)
WRITE_SLICE = 0.005
"""Seconds a write keeps the event loop's thread before it lets the loop run."""
_READ_STATEMENTS = ("SELECT", "WITH")  # WITH … INSERT only runs in a transaction


@contextmanager
def inline(mode: Inline) -> Iterator[None]:
    """Within this block (this task and what it awaits), statements run as `mode` says on the
    calling thread. The connection's own thread is idle meanwhile: the pool lends a connection
    to one task, which awaits each statement before the next."""
    token = _INLINE.set(mode)
    try:
        yield
    finally:
        _INLINE.reset(token)


def _runs_here(operation: str, *, many: bool) -> bool:
    mode = _INLINE.get()
    if mode is Inline.WRITES:
        return not operation.lstrip()[:5].upper().startswith("BEGIN")
    if mode is Inline.READS and not many:
        words = operation.lstrip()[:6].upper()
        return words.startswith(_READ_STATEMENTS) or operation.strip().upper() == "BEGIN"
    return False


async def _on_thread(connection: aiosqlite.Connection, work: Callable[[], T]) -> T:
    """`work` run on the connection's thread, as `aiosqlite.Connection._execute` runs it."""
    if not connection._running or not connection._connection:
        raise ValueError("Connection closed")
    future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
    connection._tx.put_nowait((future, work))
    done = await future
    _RESUMED.set(time.perf_counter())
    return done


async def _here(work: Callable[[], T]) -> T:
    """`work` run at once on the calling thread (awaited all the same: SQLAlchemy's async
    layer requires each statement to await); a write that has kept the loop `WRITE_SLICE`
    lets it run others' work next."""
    done = work()
    if _INLINE.get() is Inline.WRITES and time.perf_counter() - _RESUMED.get() > WRITE_SLICE:
        await asyncio.sleep(0)
        _RESUMED.set(time.perf_counter())
    return done


def _run(raw: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> Outcome:
    cursor = raw.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        self._one_trip(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        self._one_trip(operation, seq_of_parameters, many=True)

    def _one_trip(self, operation: str, parameters: Any, *, many: bool) -> None:
        connection = cast(aiosqlite.Connection, self._connection)

        def work() -> Outcome:
            return _run(connection._conn, operation, parameters, many)

        try:
            here = _runs_here(operation, many=many)
            trip = _here(work) if here else _on_thread(connection, work)
            description, rows, lastrowid, rowcount = self.await_(trip)
        except Exception as error:  # noqa: BLE001 -- re-raised (translated) as SQLAlchemy does
            self._adapt_connection._handle_exception(error)
        self.description = description
        self._rows = deque(rows)
        if description:  # as SQLAlchemy's cursor: no row count nor row id after a SELECT
            self.lastrowid = self.rowcount = -1
        else:
            self.lastrowid, self.rowcount = cast(int, lastrowid), rowcount


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def rollback(self) -> None:
        if _INLINE.get() is Inline.NONE:
            super().rollback()
            return
        try:
            self.await_(_here(self._connection._conn.rollback))  # ends a read: takes no lock
        except Exception as error:  # noqa: BLE001 -- re-raised (translated) as SQLAlchemy does
            self._handle_exception(error)

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        if server_side:
            return AsyncAdapt_aiosqlite_ss_cursor(self)
        return OneTripCursor(self)


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """Pass as `module=` to `create_async_engine` for a `sqlite+aiosqlite` URL."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        if type(adapted) is not AsyncAdapt_aiosqlite_connection:
            return adapted  # the synchronous fallback keeps SQLAlchemy's adapter
        return OneTripConnection(self, adapted._connection)
