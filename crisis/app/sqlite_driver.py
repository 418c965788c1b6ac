"""SQLite statements in one trip to aiosqlite's thread instead of four.

SQLAlchemy's aiosqlite adapter makes a cursor, executes, fetches and closes the cursor, each
step a round trip between the event loop and the connection's thread (≈ 60 µs of CPU each).
This adapter does the four steps in one function run on that thread, queued the way SQLAlchemy
itself queues its isolation-level change. Rows, `lastrowid`, `rowcount` and errors are the
same; server-side cursors (streamed results) keep SQLAlchemy's cursor.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import deque
from collections.abc import Callable, Sequence
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


async def _on_thread(connection: aiosqlite.Connection, work: Callable[[], T]) -> T:
    """`work` run on the connection's thread, as `aiosqlite.Connection._execute` runs it."""
    if not connection._running or not connection._connection:
        raise ValueError("Connection closed")
    future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
    connection._tx.put_nowait((future, work))
    return await future


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
            description, rows, lastrowid, rowcount = self.await_(_on_thread(connection, work))
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
