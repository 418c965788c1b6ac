"""Launch exactly once: at the scheduled instant, by hand, after a restart, across DST nights."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from crisis.app.db import Database
from crisis.cell.crises import Crisis
from crisis.dispatch.outbox import Delivery, OutboxMessage
from crisis.journal import JournalEntry
from crisis.users import User
from exercises import ending, launching
from exercises.errors import DrillConflict
from exercises.programme import Drill, DrillKind, DrillRun, RunStatus
from tests.exercises.support import LAUNCH, TRAINER, plan
from tests.support import FrozenClock, make_user

pytestmark = pytest.mark.asyncio


async def _tick(db: Database, now: datetime, *, catch_up: bool = False) -> list[DrillRun]:
    async with db.transaction() as session:
        runs = await launching.launch_due(session, rules=LAUNCH, now=now, catch_up=catch_up)
    async with db.transaction() as session:
        await ending.end_finished(session, rules=LAUNCH, now=now)
    return runs


async def _runs(db: Database) -> list[DrillRun]:
    async with db.read() as session:
        return list((await session.exec(select(DrillRun).order_by(col(DrillRun.id)))).all())


async def test_a_scheduled_drill_launches_at_its_instant_once_whatever_the_ticks(
    db: Database, clock: FrozenClock
) -> None:
    at = clock.now() + timedelta(minutes=10)
    async with db.transaction() as session:
        drill = await plan(session, now=clock.now(), starts_at=at)
    assert await _tick(db, clock.advance(minutes=9, seconds=59)) == []
    launched = await _tick(db, clock.advance(seconds=1))
    assert [(r.status, r.occurrence_at, r.late) for r in launched] == [
        (RunStatus.RUNNING, at, False)
    ]
    for _ in range(3):
        assert await _tick(db, clock.advance(seconds=5)) == []
    async with db.read() as session:
        crisis = await session.get(Crisis, launched[0].crisis_id)
        stored = await session.get(Drill, drill.id)
    assert crisis is not None and crisis.mode == "exercise" and crisis.status == "cell_ordered"
    assert stored is not None and stored.next_run_at is None
    assert len(await _runs(db)) == 1


async def test_two_ticks_at_once_launch_a_due_drill_once(db: Database, clock: FrozenClock) -> None:
    async with db.transaction() as session:
        await plan(session, now=clock.now(), starts_at=clock.now() + timedelta(minutes=1))
    now = clock.advance(minutes=1)
    await asyncio.gather(_tick(db, now), _tick(db, now))
    assert len(await _runs(db)) == 1


async def test_a_launch_missed_while_the_service_was_down_happens_at_start_marked_late(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        await plan(session, now=clock.now(), starts_at=clock.now() + timedelta(minutes=5))
    [run] = await _tick(db, clock.advance(hours=3), catch_up=True)
    assert run.status == RunStatus.RUNNING and run.late and run.crisis_id is not None


async def test_a_launch_missed_past_the_window_is_marked_missed_journaled_and_told(
    db: Database, clock: FrozenClock
) -> None:
    planner = await make_user(db, clock, "formatrice", "trainer")
    async with db.transaction() as session:
        user = await session.get(User, planner.id)
        assert user is not None
        user.email = "formatrice@somme.gouv.fr"
        session.add(user)
        await plan(session, now=clock.now(), starts_at=clock.now() + timedelta(minutes=5))
    [run] = await _tick(db, clock.advance(hours=7), catch_up=True)
    assert run.status == RunStatus.MISSED and run.crisis_id is None
    async with db.read() as session:
        actions = (await session.exec(select(JournalEntry.action))).all()
        crises = (await session.exec(select(Crisis))).all()
        [notice] = (await session.exec(select(Delivery))).all()
        message = await session.get(OutboxMessage, notice.message_id)
    assert "exercise.missed" in actions and crises == []
    assert (notice.address, notice.audience, notice.crisis_id) == (
        "formatrice@somme.gouv.fr",
        "staff",
        None,
    )
    assert message is not None and "n'a pas été lancé" in message.text


async def test_a_trainer_launches_by_hand_and_a_second_launch_while_running_is_refused(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        drill = await plan(session, now=clock.now(), starts_at=clock.now() + timedelta(days=9))
    assert drill.id is not None
    async with db.transaction() as session:
        run = await launching.launch_now(
            session, actor=TRAINER, drill_id=drill.id, rules=LAUNCH, now=clock.now()
        )
    assert run.occurrence_at is None and run.launched_by == "formatrice"
    with pytest.raises(DrillConflict) as refused:
        async with db.transaction() as session:
            await launching.launch_now(
                session, actor=TRAINER, drill_id=drill.id, rules=LAUNCH, now=clock.now()
            )
    assert refused.value.status == 409
    assert len(await _runs(db)) == 1
    async with db.read() as session:
        assert len((await session.exec(select(Crisis))).all()) == 1


async def _night(db: Database, clock: FrozenClock, *, hours: int) -> list[datetime | None]:
    async with db.transaction() as session:
        await plan(
            session,
            now=clock.now(),
            kind=DrillKind.ON_CALL,
            people=[],
            rrule="FREQ=DAILY;BYHOUR=2;BYMINUTE=30",
        )
    for _ in range(hours * 4):
        await _tick(db, clock.advance(minutes=15))
    return [r.occurrence_at for r in await _runs(db) if r.status != RunStatus.MISSED]


async def test_on_the_spring_forward_night_a_0230_drill_launches_once_at_0330(
    db: Database,
) -> None:
    # 28 March 2027: 02:00 → 03:00 in Paris; 02:30 does not exist and runs as 03:30 CEST.
    clock = FrozenClock(datetime(2027, 3, 27, 12, 0, tzinfo=UTC))
    launched = await _night(db, clock, hours=48)
    assert launched == [
        datetime(2027, 3, 28, 1, 30, tzinfo=UTC),
        datetime(2027, 3, 29, 0, 30, tzinfo=UTC),
    ]
    assert [r.status for r in await _runs(db)] == [RunStatus.ENDED, RunStatus.ENDED]


async def test_on_the_fall_back_night_a_0230_drill_launches_once_not_twice(
    db: Database,
) -> None:
    # 25 October 2026: 03:00 → 02:00 in Paris; 02:30 happens twice, the drill runs once.
    clock = FrozenClock(datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    launched = await _night(db, clock, hours=48)
    assert launched == [
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 26, 1, 30, tzinfo=UTC),
    ]
