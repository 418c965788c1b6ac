"""The drills' tick as the service runs it: leader-only, fenced by the lease, caught up at start."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from crisis.app.background import build_background
from crisis.app.db import Database
from crisis.app.leadership import LostLeadership
from crisis.app.settings import Settings
from exercises.programme import DrillRun, RunStatus
from tests.conftest import ON_POSTGRESQL
from tests.exercises.support import plan
from tests.support import FrozenClock

postgres_only = pytest.mark.skipif(not ON_POSTGRESQL, reason="the lease is a PostgreSQL row")


async def _runs(db: Database) -> list[DrillRun]:
    async with db.read() as session:
        return list((await session.exec(select(DrillRun))).all())


async def test_the_exercise_tick_is_leader_only_and_a_launch_missed_while_down_goes_at_start(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    async with db.transaction() as session:
        await plan(session, now=clock.now(), starts_at=clock.now() + timedelta(minutes=1))
    clock.advance(minutes=30)  # the service was down at the drill's instant
    background = build_background(db, clock, tick_seconds=1, settings=settings)
    [job] = [j for j in background.jobs if j.name == "exercises"]
    assert job.leader_only
    await background._refresh_leadership()  # on PostgreSQL, the lease taken
    for tick in background.startup:
        await tick(clock.now())
    [run] = await _runs(db)
    assert run.status == RunStatus.RUNNING and run.late
    await job.tick(clock.advance(seconds=5))
    assert len(await _runs(db)) == 1


@pytest.fixture
async def two(database_url: str, db: Database) -> AsyncIterator[tuple[Database, Database]]:
    first, second = Database.from_url(database_url), Database.from_url(database_url)
    yield first, second
    await first.dispose()
    await second.dispose()


@postgres_only
async def test_a_stale_leader_launches_no_drill_while_the_new_one_launches_it_once(
    db: Database, clock: FrozenClock, settings: Settings, two: tuple[Database, Database]
) -> None:
    async with db.transaction() as session:
        await plan(session, now=clock.now(), starts_at=clock.now() + timedelta(minutes=1))
    clock.advance(minutes=1)
    old, new = (build_background(d, clock, tick_seconds=1, settings=settings) for d in two)
    await old._refresh_leadership()
    async with db.transaction() as session:
        await session.execute(
            sa.text("UPDATE scheduler_lease SET expires_at = now() - interval '1 second'")
        )
    await new._refresh_leadership()
    ticks = {id(b): next(j.tick for j in b.jobs if j.name == "exercises") for b in (old, new)}
    with pytest.raises(LostLeadership):
        await ticks[id(old)](clock.now())
    assert await _runs(db) == []
    await ticks[id(new)](clock.now())
    await ticks[id(new)](clock.advance(seconds=5))
    assert len(await _runs(db)) == 1
