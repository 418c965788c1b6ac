"""What differs between SQLite and PostgreSQL for a statement, asked in one place.

Domain code builds its statements through these and never reads the dialect's name itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "bind_processor",
    "id_among",
    "insert_or_ignore",
    "larger_page_cache",
    "on_postgres",
    "skip_locked",
]

_Select = TypeVar("_Select", bound=sa.Select[Any])


def on_postgres(conn: AsyncConnection | sa.Connection) -> bool:
    return conn.dialect.name == "postgresql"


def bind_processor(conn: AsyncConnection | sa.Connection, column: sa.Column[Any]) -> Any:
    """How the driver of `conn` wants `column`'s Python values (None: as they are)."""
    return column.type.bind_processor(conn.dialect)


def insert_or_ignore(
    conn: AsyncConnection | sa.Connection, table: Any, *, index_elements: Sequence[str]
) -> Any:
    """`INSERT … ON CONFLICT (index_elements) DO NOTHING` in the connection's dialect."""
    insert = postgresql.insert if on_postgres(conn) else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=list(index_elements))


def skip_locked(query: _Select, conn: AsyncConnection | sa.Connection, *, of: Any) -> _Select:
    """`FOR UPDATE OF … SKIP LOCKED` on PostgreSQL; SQLite's writer lock serialises anyway."""
    return query.with_for_update(of=of, skip_locked=True) if on_postgres(conn) else query


def id_among(
    column: sa.ColumnElement[int], ids: list[int], conn: AsyncConnection | sa.Connection
) -> sa.ColumnElement[bool]:
    """`column = ANY(:ids)` on PostgreSQL (one array bind, not a list to plan), else `IN`."""
    if on_postgres(conn):
        return column == sa.any_(sa.bindparam("ids", ids, type_=postgresql.ARRAY(sa.Integer)))
    return column.in_(ids)


@asynccontextmanager
async def larger_page_cache(conn: AsyncConnection, *, kib: int) -> AsyncIterator[None]:
    """A larger SQLite page cache for `conn` while the block runs, restored afterwards
    (PostgreSQL's shared buffers are the server's business: nothing to do there)."""
    if on_postgres(conn):
        yield
        return
    before = (await conn.exec_driver_sql("PRAGMA cache_size")).scalar_one()
    await conn.exec_driver_sql(f"PRAGMA cache_size = -{kib}")
    try:
        yield
    finally:
        await conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")
