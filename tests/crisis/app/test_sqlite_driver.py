"""The one-trip SQLite adapter answers as SQLAlchemy's own aiosqlite adapter does: same rows,
row ids, row counts and errors, on a file database; statements run on the event loop's thread,
and a write waits for another process' lock on the connection's."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from crisis.app import sqlite_driver
from crisis.app.db import Database, make_engine
from crisis.app.sqlite_driver import OneTripCursor

Script = list[tuple[str, Any]]

SCRIPT: Script = [
    ("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, n INTEGER)", None),
    ("INSERT INTO t (name, n) VALUES (?, ?)", ("a", 1)),
    ("INSERT INTO t (name, n) VALUES (?, ?)", ("b", 2)),
    ("INSERT INTO t (name, n) VALUES (?, ?) RETURNING id, name", ("c", 3)),
    ("UPDATE t SET n = n + 10 WHERE n >= ?", (2,)),
    ("SELECT id, name, n FROM t ORDER BY id", None),
    ("SELECT id FROM t WHERE name = ?", ("nobody",)),
    ("DELETE FROM t WHERE name = ?", ("nobody",)),
]


def _run_script(sync_conn: sa.Connection, script: Script) -> list[tuple[Any, ...]]:
    cursor = sync_conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    answers = []
    for statement, parameters in script:
        cursor.execute(statement, parameters)
        names = [column[0] for column in cursor.description or []]
        answers.append((names, cursor.fetchall(), cursor.lastrowid, cursor.rowcount))
    return answers


async def _answers(engine: AsyncEngine, script: Script) -> list[tuple[Any, ...]]:
    """(description's column names, rows, row id, row count) of each statement, through the
    DBAPI cursor of the engine's adapter."""
    async with engine.connect() as conn:
        return await conn.run_sync(_run_script, script)


@pytest.fixture
async def engines(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    ours = make_engine(f"sqlite:///{tmp_path}/ours.db")
    theirs = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/theirs.db")
    yield ours, theirs
    await ours.dispose()
    await theirs.dispose()


async def test_statements_answer_as_with_sqlalchemys_adapter(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    ours, theirs = engines
    async with ours.connect() as conn:
        cursor = await conn.run_sync(lambda sync: sync.connection.dbapi_connection.cursor())
        assert isinstance(cursor, OneTripCursor)
    mine = await _answers(ours, SCRIPT)
    assert mine == await _answers(theirs, SCRIPT)
    assert mine[5][1] == [(1, "a", 1), (2, "b", 12), (3, "c", 13)]
    assert mine[3][1] == [(3, "c")]  # RETURNING rows
    assert mine[4][3] == 2  # rows updated


async def test_many_rows_in_one_statement_count_as_with_sqlalchemys_adapter(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    ours, theirs = engines
    for engine in engines:
        async with engine.begin() as conn:
            await conn.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"))
            await conn.execute(
                sa.text("INSERT INTO t (name) VALUES (:name)"), [{"name": "a"}, {"name": "b"}]
            )
    counted = []
    for engine in (ours, theirs):
        async with engine.connect() as conn:
            counted.append((await conn.execute(sa.text("SELECT count(*) FROM t"))).scalar())
    assert counted == [2, 2]


async def test_a_refused_statement_raises_sqlalchemys_error_and_the_connection_goes_on(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    ours, _ = engines
    async with ours.begin() as conn:
        await conn.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
        await conn.execute(sa.text("INSERT INTO t (name) VALUES ('a')"))
    async with ours.connect() as conn:
        with pytest.raises(sa.exc.IntegrityError, match="UNIQUE"):
            await conn.execute(sa.text("INSERT INTO t (name) VALUES ('a')"))
        await conn.rollback()
        with pytest.raises(sa.exc.OperationalError, match="no such table"):
            await conn.execute(sa.text("SELECT * FROM missing"))
        await conn.rollback()
        assert (await conn.execute(sa.text("SELECT name FROM t"))).scalars().all() == ["a"]


async def test_a_closed_connection_refuses_statements_instead_of_waiting_forever(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    ours, _ = engines
    async with ours.connect() as conn:

        def close_then_execute(sync: sa.Connection) -> None:
            dbapi = sync.connection.dbapi_connection
            assert dbapi is not None
            cursor = dbapi.cursor()
            dbapi.close()
            cursor.execute("SELECT 1")

        with pytest.raises(ValueError, match="closed"):
            await asyncio.wait_for(conn.run_sync(close_then_execute), timeout=5)
        await conn.invalidate()


def _thread_of_statements(dbapi_connection: Any, _record: Any) -> None:
    """`thread()` in SQL: the thread that runs the statement."""
    dbapi_connection.create_function("thread", 0, threading.get_ident)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database.from_url(f"sqlite:///{tmp_path}/inline.db")
    sa.event.listen(db.engine.sync_engine, "connect", _thread_of_statements)
    async with db.transaction() as session:
        await session.exec(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)"))
    yield db
    await db.dispose()


async def test_reads_and_writes_run_on_the_event_loops_thread(database: Database) -> None:
    loop_thread = threading.get_ident()
    async with database.read_rows() as conn:
        assert (await conn.execute(sa.text("SELECT thread()"))).scalar() == loop_thread
    async with database.read() as session:
        read = (await session.exec(sa.text("SELECT thread()"))).scalar()
        assert read == loop_thread
    async with database.transaction() as writing:
        inserted = await writing.exec(sa.text("INSERT INTO t (n) VALUES (thread()) RETURNING n"))
        assert inserted.scalar() == loop_thread
    async with database.read_rows() as conn:  # a write asked inside a read keeps the thread
        inserted = await conn.execute(sa.text("INSERT INTO t (n) VALUES (thread()) RETURNING n"))
        assert inserted.scalar() != loop_thread
        await conn.rollback()


async def test_a_write_waiting_for_another_process_lock_leaves_the_loop_free(
    database: Database, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "inline.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # as the worker holds it between two of its writes

    async def write() -> None:
        async with database.transaction() as session:
            await session.exec(sa.text("INSERT INTO t (n) VALUES (7)"))

    writing = asyncio.create_task(write())
    await asyncio.sleep(0)  # the write starts and waits for the lock
    async with database.read_rows() as conn:  # meanwhile the loop reads
        assert (await conn.execute(sa.text("SELECT count(*) FROM t"))).scalar() == 0
    assert not writing.done()
    other.execute("ROLLBACK")
    other.close()
    await asyncio.wait_for(writing, timeout=10)
    async with database.read_rows() as conn:
        assert (await conn.execute(sa.text("SELECT n FROM t"))).scalars().all() == [7]


async def test_reads_of_many_tasks_at_once_each_see_their_own_rows(database: Database) -> None:
    async with database.transaction() as session:
        for n in range(40):
            await session.exec(sa.text(f"INSERT INTO t (n) VALUES ({n})"))

    async def read(n: int) -> list[int]:
        async with database.read_rows() as conn:
            await asyncio.sleep(0)  # the tasks interleave between statements
            query = sa.text("SELECT n FROM t WHERE n >= :n ORDER BY n LIMIT 3")
            return list((await conn.execute(query, {"n": n})).scalars())

    answers = await asyncio.gather(*(read(n) for n in range(30)))
    assert answers == [[n, n + 1, n + 2] for n in range(30)]


class LoopTurns:
    """Counts the turns the event loop gives other tasks (one task yielding at each turn)."""

    def __init__(self) -> None:
        self.count = 0
        self._task = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(0)
            self.count += 1

    def stop(self) -> None:
        self._task.cancel()


async def _turns_during_a_write(database: Database, statements: int) -> int:
    turns = LoopTurns()
    async with database.transaction() as session:
        await session.exec(sa.text("INSERT INTO t (n) VALUES (0)"))  # BEGIN: on its thread
        before = turns.count
        for n in range(statements):
            await session.exec(sa.text(f"INSERT INTO t (n) VALUES ({n})"))
        during = turns.count - before
    turns.stop()
    return during


async def test_a_write_lets_the_loop_run_only_once_it_has_kept_it_past_its_slice(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_driver, "WRITE_SLICE", 3600.0)
    assert await _turns_during_a_write(database, 20) == 0
    monkeypatch.setattr(sqlite_driver, "WRITE_SLICE", 0.0)
    assert await _turns_during_a_write(database, 20) >= 20


async def test_a_read_gives_its_connection_back_without_waiting_for_a_turn_of_the_loop(
    database: Database,
) -> None:
    turns = LoopTurns()
    await asyncio.sleep(0)
    before = turns.count
    for _ in range(10):
        async with database.read_rows() as conn:
            await conn.execute(sa.text("SELECT count(*) FROM t"))
        async with database.read() as session:
            await session.exec(sa.text("SELECT count(*) FROM t"))
    assert turns.count == before  # SQLAlchemy's own exit closes in a task: two turns each
    turns.stop()


async def test_an_in_memory_database_keeps_every_statement_on_its_one_connections_thread() -> None:
    db = Database.from_url("sqlite:///:memory:")
    sa.event.listen(db.engine.sync_engine, "connect", _thread_of_statements)
    async with db.read_rows() as conn:
        assert (await conn.execute(sa.text("SELECT thread()"))).scalar() != threading.get_ident()
    await db.dispose()
