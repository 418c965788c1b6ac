"""One scheduler leader at a time on PostgreSQL; another takes over when it dies."""

from __future__ import annotations

import os

import pytest

from crisis.app.background import Background
from crisis.app.db import Database
from tests.support import FrozenClock

postgres_only = pytest.mark.skipif(
    not os.environ.get("TOCSIN_TEST_POSTGRES"),
    reason="leadership is an advisory lock on PostgreSQL",
)


@postgres_only
async def test_only_one_instance_leads_and_another_takes_over_when_it_dies(
    database_url: str, clock: FrozenClock
) -> None:
    first_db, second_db = Database.from_url(database_url), Database.from_url(database_url)
    first = Background(db=first_db, clock=clock)
    second = Background(db=second_db, clock=clock)
    try:
        await first._refresh_leadership()
        await second._refresh_leadership()
        assert (first.is_leader, second.is_leader) == (True, False)
        await second._refresh_leadership()
        assert not second.is_leader
        # The leader's process dies: its connection, and with it the advisory lock, is gone.
        assert first._lock_connection is not None
        await first._lock_connection.invalidate()
        await first_db.dispose()
        await second._refresh_leadership()
        assert second.is_leader
    finally:
        if second._lock_connection is not None:
            await second._lock_connection.close()
        await second_db.dispose()
        await first_db.dispose()


async def test_on_sqlite_the_single_process_always_leads(clock: FrozenClock) -> None:
    sqlite = Database.from_url("sqlite://")
    background = Background(db=sqlite, clock=clock)
    await background._refresh_leadership()
    assert background.is_leader
    await sqlite.dispose()
