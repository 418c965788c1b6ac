"""What a read sends to PostgreSQL (docs/operations.md, « Connexions à la base »): its own
statements and nothing else, each on its own; a statement that would write or lock is refused;
a snapshot sees one moment throughout, and a server-side cursor can stream in it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.app.db import Database
from crisis.journal import JournalHead
from tests.crisis.app.test_sqlite_driver import LoopTurns


@pytest.fixture(autouse=True)
def _on_postgresql(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("how a read runs on PostgreSQL (SQLite's: tests/crisis/app/test_sqlite_driver)")


async def _driver_connection(session: AsyncSession) -> Any:
    """The asyncpg connection under the session (checked out, no statement sent yet)."""
    return (await (await session.connection()).get_raw_connection()).driver_connection


async def _commands_around(
    block: Callable[[], AbstractAsyncContextManager[AsyncSession]],
) -> list[str]:
    """What asyncpg sent besides the block's statement (BEGIN, ROLLBACK: the prepared
    statements are not logged) on the block's connection, until it went back to the pool."""
    commands: list[str] = []

    def log(record: Any) -> None:
        commands.append(record.query.strip().rstrip(";"))

    async with block() as session:
        connection = await _driver_connection(session)
        connection.add_query_logger(log)
        await session.exec(select(JournalHead))
    await asyncio.sleep(0)  # asyncpg calls its loggers at the loop's next turn
    connection.remove_query_logger(log)
    return commands


async def test_a_read_sends_its_statements_alone_without_begin_or_rollback(db: Database) -> None:
    assert await _commands_around(db.read) == []
    assert await _commands_around(db.snapshot) == [
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        "ROLLBACK",
    ]


async def test_a_snapshot_is_one_read_only_repeatable_read_transaction(db: Database) -> None:
    async with db.snapshot() as session:
        level = await session.scalar(sa.text("SHOW transaction_isolation"))
        read_only = await session.scalar(sa.text("SHOW transaction_read_only"))
        streamed = await session.stream(
            select(JournalHead).execution_options(yield_per=10)  # a server-side cursor
        )
        heads = [head async for head in streamed.scalars()]
    assert (level, read_only, heads) == ("repeatable read", "on", [])


@pytest.mark.parametrize(
    "statement",
    [
        sa.text("INSERT INTO journal_head (chain, length, last_hash) VALUES ('x', 0, 'y')"),
        sa.insert(JournalHead).values(chain="x", length=0, last_hash="y"),
        sa.text("CREATE TABLE scratch (n int)"),
        select(JournalHead).where(col(JournalHead.chain) == "x").with_for_update(),
        select(JournalHead).with_for_update(read=True),
    ],
    ids=["text insert", "insert", "create table", "select for update", "select for share"],
)
async def test_a_read_that_would_write_or_lock_rows_is_refused_and_changes_nothing(
    db: Database, statement: sa.Executable
) -> None:
    async with db.read() as session:
        with pytest.raises(sa.exc.InvalidRequestError, match="a read cannot write or lock"):
            await session.execute(statement)
    async with db.read() as session:
        assert (await session.exec(select(JournalHead))).all() == []
        exists = await session.scalar(sa.text("SELECT to_regclass('public.scratch')"))
    assert exists is None


async def test_a_read_gives_its_connection_back_without_a_turn_of_the_loop(db: Database) -> None:
    """SQLAlchemy's own exit closes a session in a task of its own, and waits for it: two
    turns of the loop. A read has no transaction to end, so its close runs at once."""
    async with db.read() as session:
        await session.exec(sa.text("SELECT 1"))  # type: ignore[call-overload]  # connected once
    turns = LoopTurns()
    async with db.read() as session:
        await session.exec(sa.text("SELECT 1"))  # type: ignore[call-overload]
        after_the_statement = turns.count
    assert turns.count == after_the_statement
    async with db.read_rows() as connection:
        await connection.execute(sa.text("SELECT 1"))
        after_the_statement = turns.count
    assert turns.count == after_the_statement
    turns.stop()


async def test_a_read_cancelled_mid_statement_leaves_no_connection_taken_nor_broken(
    db: Database,
) -> None:
    """A client gone mid-page cancels its request: SQLAlchemy discards the connection of the
    statement cut short, and the close that follows has nothing left to await."""
    started = asyncio.Event()

    async def page() -> None:
        async with db.read() as session:
            started.set()
            await session.exec(sa.text("SELECT pg_sleep(5)"))  # type: ignore[call-overload]

    request = asyncio.create_task(page())
    await started.wait()
    await asyncio.sleep(0.2)
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    for _ in range(db.engine.pool.size() + 1):  # type: ignore[attr-defined]
        async with db.read() as session:
            assert await session.scalar(sa.text("SELECT 1")) == 1
