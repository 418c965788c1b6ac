"""Planning drills: what a trainer may plan, and every bad input refused with nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from crisis.app.db import Database
from crisis.app.library import playbook_library
from crisis.errors import Forbidden
from crisis.journal import JournalEntry
from exercises import programme
from exercises.errors import DrillRefused
from exercises.programme import Drill, DrillKind, DrillSpec
from tests.crisis.lifecycle_support import add_contact
from tests.exercises.support import PREFECT, participants, plan
from tests.support import FrozenClock

pytestmark = pytest.mark.asyncio


async def _drills(db: Database) -> int:
    async with db.read() as session:
        return int((await session.exec(select(func.count()).select_from(Drill))).one())


async def test_a_one_off_drill_is_planned_at_its_instant_and_journaled(
    db: Database, clock: FrozenClock
) -> None:
    at = clock.now() + timedelta(days=3)
    async with db.transaction() as session:
        drill = await plan(session, now=clock.now(), starts_at=at)
    assert drill.next_run_at == at
    async with db.read() as session:
        actions = (await session.exec(select(JournalEntry.action))).all()
    assert "exercise.planned" in actions


async def test_a_monthly_rule_in_paris_time_runs_at_nine_local_on_the_first_tuesday(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        drill = await plan(session, now=clock.now(), rrule="FREQ=MONTHLY;BYDAY=1TU;BYHOUR=9")
    # 28 November 2026 → first Tuesday of December, 09:00 Paris = 08:00 UTC (winter time).
    assert drill.next_run_at == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "code"),
    [
        ({"starts_at": datetime(2026, 11, 28, 13, 0, tzinfo=UTC)}, "starts_at_in_past"),
        ({"rrule": "FREQ=MINUTELY"}, "rrule_too_frequent"),
        ({"rrule": "FREQ=DAILY;BYMINUTE=0,30"}, "rrule_too_frequent"),
        ({"rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}, "rrule_never_fires"),
        ({"rrule": "FREQ=DAILY;UNTIL=20200101T000000"}, "rrule_never_fires"),
        ({"rrule": "FREQ=DAILY;BYWEEKNO=60"}, "invalid_rrule"),
        ({"rrule": "pas une règle"}, "invalid_rrule"),
        ({}, "schedule_required"),
    ],
)
async def test_a_bad_schedule_is_refused_with_its_reason_and_nothing_written(
    db: Database, clock: FrozenClock, schedule: dict[str, object], code: str
) -> None:
    async with db.transaction() as session:
        people = await participants(session, now=clock.now())
    with pytest.raises(DrillRefused) as refused:
        async with db.transaction() as session:
            await plan(session, now=clock.now(), people=people, **schedule)  # type: ignore[arg-type]
    assert refused.value.code == code
    assert refused.value.status == 422
    assert await _drills(db) == 0


async def test_a_crisis_drill_without_exercise_participants_is_refused(
    db: Database, clock: FrozenClock
) -> None:
    with pytest.raises(DrillRefused) as refused:
        async with db.transaction() as session:
            await plan(session, now=clock.now(), people=[], starts_at=clock.now() + timedelta(1))
    assert refused.value.code == "no_exercise_participant"
    assert await _drills(db) == 0


async def test_a_real_mayor_or_staff_member_cannot_be_named_a_participant(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        mayor = await add_contact(session, name="Maire Réel", audience="officials", now=clock.now())
        agent = await add_contact(session, name="Agent Réel", audience="staff", now=clock.now())
    for person in (mayor, agent):
        with pytest.raises(DrillRefused) as refused:
            async with db.transaction() as session:
                await plan(
                    session, now=clock.now(), people=[person], starts_at=clock.now() + timedelta(1)
                )
        assert refused.value.code == "participant_not_exercise"
    assert await _drills(db) == 0


async def test_only_a_trainer_plans_a_drill(db: Database, clock: FrozenClock) -> None:
    spec = DrillSpec(title="Test", kind=DrillKind.ON_CALL, starts_at=clock.now() + timedelta(1))
    with pytest.raises(Forbidden):
        async with db.transaction() as session:
            await programme.create(
                session, actor=PREFECT, spec=spec, playbooks=playbook_library(), now=clock.now()
            )
