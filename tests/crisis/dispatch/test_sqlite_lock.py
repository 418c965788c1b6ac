"""SQLite's one writer: the dispatcher's claims meet another process' write lock, wait a brief
while, try again with a bound, and never stall 30 s (issue 17 item 7)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from channels.kinds import ChannelKind
from crisis.app.db import Database
from crisis.dispatch import recovery
from crisis.dispatch.dispatcher import Dispatcher
from crisis.dispatch.transactions import write
from tests.crisis.dispatch_support import RecordingChannel, deliveries, emails, enqueue
from tests.support import FrozenClock


@pytest.fixture
def other_writer(database_url: str) -> Iterator[sqlite3.Connection]:
    """A second connection to the file, as the web process is: it will hold the write lock."""
    if make_url(database_url).get_backend_name() != "sqlite":
        pytest.skip("PostgreSQL takes row locks: no database-wide writer to wait for")
    connection = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
    yield connection
    if connection.in_transaction:
        connection.rollback()
    connection.close()


@pytest.fixture
def brief(db: Database) -> Database:
    db.brief_busy_ms = 100  # the test's brief wait: 0.1 s a try instead of 1 s
    return db


async def test_a_claim_waits_for_another_writers_lock_and_goes_through_once_it_is_released(
    brief: Database,
    clock: FrozenClock,
    other_writer: sqlite3.Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await enqueue(brief, now=clock.now(), addresses=emails(3))
    channel = RecordingChannel(ChannelKind.EMAIL, "courriel")
    dispatcher = Dispatcher(db=brief, real={ChannelKind.EMAIL: channel}, exercise={})
    other_writer.execute("BEGIN IMMEDIATE")  # the web, publishing: SQLite's one write lock
    asyncio.get_running_loop().call_later(0.25, other_writer.commit)
    report = await dispatcher.run(clock.now())  # tried at 0, ~0.15, ~0.3 s: the third passes
    assert report.claimed == 3
    assert "database locked by another writer: try 2 of 4" in caplog.text  # not a 30 s wait
    assert {d.status for d in await deliveries(brief)} == {"sent"}
    await dispatcher.aclose()


async def test_a_write_still_locked_after_its_tries_gives_up_within_its_bound(
    brief: Database, clock: FrozenClock, other_writer: sqlite3.Connection
) -> None:
    tries = 0

    async def recover(session: AsyncSession) -> int:
        nonlocal tries
        tries += 1
        return await recovery.release_sending(session, now=clock.now())

    other_writer.execute("BEGIN IMMEDIATE")  # held throughout
    began = time.monotonic()
    with pytest.raises(OperationalError, match="database is locked"):
        await write(brief, recover, attempts=3, pause=0.05)
    elapsed = time.monotonic() - began
    assert tries == 3  # each try stopped at its first statement's BEGIN IMMEDIATE
    assert elapsed < 2.0  # three waits of 0.1 s and two pauses, not SQLite's default 30 s
    other_writer.rollback()
    assert await write(brief, recover) == 0  # the lock released: the next write goes through
    assert tries == 4


async def test_the_other_writes_keep_waiting_thirty_seconds_after_a_brief_one(
    brief: Database, other_writer: sqlite3.Connection
) -> None:
    async def busy(session: AsyncSession) -> int:
        return int((await session.execute(sa.text("PRAGMA busy_timeout"))).scalar_one())

    assert await write(brief, busy) == 100
    async with brief.transaction() as session:  # the same pooled connection, a plain write
        assert await busy(session) == 30_000
