"""Plain tuples straight from the driver, for the few queries that return thousands of rows.

SQLAlchemy's result rows cost more than the query itself when a département's 20,000
channels come back; these helpers talk to the DB-API driver under the caller's
connection (and so inside its transaction), with `?` or `$n` placeholders.
"""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection


class Params:
    """Bind values collected while writing a statement, in the driver's placeholder style."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.values: list[object] = []
        self._numbered = conn.dialect.name == "postgresql"

    def __call__(self, value: object) -> str:
        self.values.append(value)
        return f"${len(self.values)}" if self._numbered else "?"

    def many(self, values: Iterable[object]) -> str:
        """`(?, ?, …)` for an IN list (never empty: `(NULL)` matches nothing)."""
        marks = [self(v) for v in values]
        return "(" + ", ".join(marks) + ")" if marks else "(NULL)"


def any_of(conn: AsyncConnection, values: list[str]) -> tuple[str, object]:
    """`IN …` of a whole list as one bind value (a JSON array on SQLite, an array on PG)."""
    if conn.dialect.name == "postgresql":
        return "= ANY($1::text[])", values
    return "IN (SELECT value FROM json_each(?))", json.dumps(values)


def code_point_order(conn: AsyncConnection) -> str:
    """The `COLLATE` that sorts text by code point, as Python does: SQLite's default BINARY
    collation on UTF-8 does so, PostgreSQL needs `COLLATE "C"` (the database's would not)."""
    return ' COLLATE "C"' if conn.dialect.name == "postgresql" else ""


async def _driver(conn: AsyncConnection) -> Any:
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    if conn.dialect.name == "postgresql" and not driver.is_in_transaction():
        # SQLAlchemy's asyncpg adapter opens the transaction on its first statement: let
        # it, so that what is written here belongs to the caller's transaction.
        await conn.exec_driver_sql("SELECT 1")
    return driver


async def fetch_all(conn: AsyncConnection, sql: str, params: Sequence[object]) -> list[Any]:
    """Every row of `sql` as the driver returns it (tuples on SQLite, Records on asyncpg)."""
    driver = await _driver(conn)
    if conn.dialect.name == "postgresql":
        return list(await driver.fetch(sql, *params))
    return list(await driver.execute_fetchall(sql, params))


async def execute_many(conn: AsyncConnection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """One statement for each row of plain values, through the driver's executemany."""
    if not rows:
        return
    driver = await _driver(conn)
    if conn.dialect.name == "postgresql":
        await driver.executemany(sql, rows)
        return
    cursor = await driver.executemany(sql, rows)
    await cursor.close()


async def copy_rows(
    conn: AsyncConnection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Rows appended to a PostgreSQL table by binary COPY, in the caller's transaction."""
    if not rows:
        return
    driver = await _driver(conn)
    await driver.copy_records_to_table(table, records=rows, columns=list(columns))


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while thousands of acyclic tuples are built.

    Every 700 allocations Python would scan the young objects, and the tuples built here
    all survive (they are the result), so the scans find nothing and promote them until a
    full collection walks the whole heap: half the CPU time of a département's targeting.
    Collection resumes at the end (if this call paused it; a concurrent call may hold it).

    Synchronous code only: the collector is the whole process', so a paused region that
    awaited would stop it for every request served meanwhile. Inside an event loop, a block
    that gives the loop a turn raises ``RuntimeError`` at its end (collection resumed).
    """
    awaited: list[bool] = []
    try:
        turn = asyncio.get_running_loop().call_soon(awaited.append, True)
    except RuntimeError:  # no loop: nothing can run meanwhile
        turn = None
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
        if turn is not None:
            turn.cancel()
    if awaited:
        raise RuntimeError("collector_paused spanned an await: keep the paused block synchronous")
