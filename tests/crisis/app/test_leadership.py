"""One scheduler leader at a time, proving it lives: a lease renewed, a token fencing its writes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlmodel import col, func, select

from crisis.app.background import Background, build_background
from crisis.app.db import Database
from crisis.app.leadership import Fenced, Lease, LostLeadership
from crisis.app.settings import Settings
from crisis.cell.clocks import ClockAlert
from tests.conftest import ON_POSTGRESQL
from tests.crisis.lifecycle_support import ordered_crisis, roster
from tests.support import FrozenClock

postgres_only = pytest.mark.skipif(not ON_POSTGRESQL, reason="the lease is a PostgreSQL row")


class Monotonic:
    """An instance's own monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


@pytest.fixture
async def two(database_url: str, db: Database) -> AsyncIterator[tuple[Database, Database]]:
    """Two instances' databases (``db`` empties the tables afterwards)."""
    first, second = Database.from_url(database_url), Database.from_url(database_url)
    yield first, second
    await first.dispose()
    await second.dispose()


async def _expire(db: Database) -> None:
    """The lease runs out on the database's clock (its holder froze)."""
    async with db.transaction() as session:
        await session.execute(
            sa.text("UPDATE scheduler_lease SET expires_at = now() - interval '1 second'")
        )


@postgres_only
async def test_one_instance_takes_the_lease_renews_it_and_another_takes_over_once_it_expired(
    two: tuple[Database, Database],
) -> None:
    first = Lease(db=two[0], holder="a")
    second = Lease(db=two[1], holder="b")
    assert await first.refresh()
    assert not await second.refresh()
    assert await first.refresh()  # renewed: the same token
    assert (first.token, second.token) == (1, None)
    await _expire(two[0])
    assert await second.refresh()
    assert second.token == 2  # a new holder, a new token
    assert not await first.refresh()
    assert not first.held


@postgres_only
async def test_a_leader_that_could_not_renew_in_time_stops_acting_by_its_own_clock(
    two: tuple[Database, Database],
) -> None:
    monotonic = Monotonic()
    lease = Lease(db=two[0], holder="a", ttl_seconds=8, monotonic=monotonic)
    assert await lease.refresh() and lease.held
    monotonic.value += 7.9
    assert lease.held
    monotonic.value += 0.2  # frozen past its lease: no renewal came
    assert not lease.held
    with pytest.raises(LostLeadership):
        async with Fenced(two[0], lease).transaction():
            pass


@postgres_only
async def test_a_resumed_old_leader_cannot_write_with_its_stale_token(
    two: tuple[Database, Database],
) -> None:
    old = Lease(db=two[0], holder="a")
    new = Lease(db=two[1], holder="b")
    await old.refresh()
    await _expire(two[0])
    await new.refresh()
    assert old.held  # by its own clock, it believes it still leads
    with pytest.raises(LostLeadership):
        async with Fenced(two[0], old).transaction() as session:
            await session.execute(sa.text("CREATE TABLE written_by_the_old_leader (id int)"))
    async with two[0].read() as session:
        found = await session.scalar(sa.text("SELECT to_regclass('written_by_the_old_leader')"))
    assert found is None
    async with Fenced(two[1], new).transaction():
        pass  # the new holder writes


@postgres_only
async def test_a_stale_leaders_clock_tick_sends_no_alert_while_the_new_ones_does(
    db: Database, clock: FrozenClock, settings: Settings, two: tuple[Database, Database]
) -> None:
    async with db.transaction() as session:
        await roster(session, now=clock.now())
        await ordered_crisis(session, now=clock.now())
    clock.advance(minutes=31)
    old, new = (build_background(d, clock, tick_seconds=1, settings=settings) for d in two)
    await old._refresh_leadership()
    await _expire(db)
    await new._refresh_leadership()
    assert old.is_leader and new.is_leader  # both believe it: the token decides
    ticks = {id(b): next(j.tick for j in b.jobs if j.name == "clocks") for b in (old, new)}
    with pytest.raises(LostLeadership):
        await ticks[id(old)](clock.now())
    assert await _sent_alerts(db) == 0
    await ticks[id(new)](clock.now())
    assert await _sent_alerts(db) > 0


async def _sent_alerts(db: Database) -> int:
    sent = select(func.count()).select_from(ClockAlert).where(col(ClockAlert.sent_at).is_not(None))
    async with db.read() as session:
        return (await session.exec(sent)).one()


async def test_on_sqlite_the_single_process_always_leads(clock: FrozenClock) -> None:
    sqlite = Database.from_url("sqlite://")
    background = Background(db=sqlite, clock=clock)
    await background._refresh_leadership()
    assert background.is_leader
    await sqlite.dispose()


@postgres_only
async def test_a_leader_frozen_inside_a_fenced_transaction_does_not_keep_the_lease_for_ever(
    two: tuple[Database, Database],
) -> None:
    old = Lease(db=two[0], holder="a", ttl_seconds=2.0)
    new = Lease(db=two[1], holder="b", ttl_seconds=2.0)
    assert await old.refresh()
    taken_over = False
    with pytest.raises(sa.exc.DBAPIError) as ended:  # resumed, it finds its session ended
        async with Fenced(two[0], old).transaction() as session:
            # Frozen (SIGSTOP) right after its check: the lease row is held FOR SHARE.
            began = time.monotonic()
            with pytest.raises(sa.exc.DBAPIError, match="lock timeout"):
                # a takeover waits 1 s at most, then tries again at the next beat
                await asyncio.wait_for(new.refresh(), 5)
            assert time.monotonic() - began < 3
            await asyncio.sleep(1.5)  # idle past the lease: PostgreSQL ends the session
            taken_over = await asyncio.wait_for(new.refresh(), 5)
            await session.execute(sa.text("CREATE TABLE written_by_the_frozen_leader (id int)"))
    assert taken_over and new.token == 2, ended.value
    assert "lock timeout" not in str(ended.value)
    async with two[1].read() as session:
        found = await session.scalar(sa.text("SELECT to_regclass('written_by_the_frozen_leader')"))
    assert found is None
