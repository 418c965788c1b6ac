"""Reachability drills in the programme: planned by a trainer over officials, awaiting the
prefect's approval, launched by hand or at their instant, ended after the answer time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from crisis.actors import Actor, Role
from crisis.app.db import Database
from crisis.cell.crises import Crisis
from crisis.dispatch.outbox import Delivery, OutboxMessage
from crisis.errors import Forbidden
from crisis.journal import JournalEntry
from exercises import approval, ending, launching, programme
from exercises.errors import DrillConflict, DrillRefused
from exercises.programme import Drill, DrillKind, DrillRun, DrillSpec, RunStatus
from exercises.reachability import TEXT
from tests.crisis.lifecycle_support import add_contact
from tests.exercises.support import LAUNCH, PREFECT, TRAINER
from tests.support import FrozenClock

pytestmark = pytest.mark.asyncio


async def _plan(db: Database, clock: FrozenClock, people: list[int], **when: object) -> Drill:
    when = when or {"starts_at": clock.now() + timedelta(days=1)}
    spec = DrillSpec(
        title="Joignabilité des maires",
        kind=DrillKind.REACHABILITY,
        participants=people,
        **when,  # type: ignore[arg-type]
    )
    async with db.transaction() as session:
        return await programme.create(
            session, actor=TRAINER, spec=spec, playbooks={}, now=clock.now()
        )


async def _mayors(db: Database, clock: FrozenClock, count: int = 2) -> list[int]:
    async with db.transaction() as session:
        return [
            await add_contact(session, name=f"Élu{i} Maire", audience="officials", now=clock.now())
            for i in range(count)
        ]


async def _approve(db: Database, clock: FrozenClock, drill: Drill, actor: Actor = PREFECT) -> None:
    assert drill.id is not None
    async with db.transaction() as session:
        await approval.approve(session, actor=actor, drill_id=drill.id, now=clock.now())


async def _launch(db: Database, clock: FrozenClock, drill: Drill) -> DrillRun:
    assert drill.id is not None
    async with db.transaction() as session:
        return await launching.launch_now(
            session, actor=TRAINER, drill_id=drill.id, rules=LAUNCH, now=clock.now()
        )


async def _rows(db: Database, table: type[object]) -> list[object]:
    async with db.read() as session:
        return list((await session.exec(select(table))).all())  # type: ignore[call-overload]


async def test_a_trainer_plans_one_over_officials_only_and_it_awaits_the_prefect(
    db: Database, clock: FrozenClock
) -> None:
    mayors = await _mayors(db, clock)
    drill = await _plan(db, clock, mayors)
    assert drill.awaiting_approval and drill.participants == sorted(mayors)
    async with db.transaction() as session:
        staff = await add_contact(session, name="Agent Astreinte", now=clock.now())
    with pytest.raises(DrillRefused) as refused:
        await _plan(db, clock, [*mayors, staff])
    assert refused.value.code == "not_official"
    assert len(await _rows(db, Drill)) == 1


async def test_an_unapproved_test_does_not_launch_by_hand_and_writes_nothing(
    db: Database, clock: FrozenClock
) -> None:
    drill = await _plan(db, clock, await _mayors(db, clock))
    with pytest.raises(DrillConflict) as refused:
        await _launch(db, clock, drill)
    assert refused.value.code == "not_approved"
    assert await _rows(db, DrillRun) == [] and await _rows(db, Delivery) == []


async def test_only_a_prefect_approves_once_and_never_a_test_they_planned(
    db: Database, clock: FrozenClock
) -> None:
    drill = await _plan(db, clock, await _mayors(db, clock))
    with pytest.raises(Forbidden):
        await _approve(db, clock, drill, actor=TRAINER)
    both = Actor(5, "formatrice", frozenset({Role.TRAINER, Role.PREFECT}))
    with pytest.raises(DrillConflict) as own:
        await _approve(db, clock, drill, actor=both)
    assert own.value.code == "approval_by_planner"
    await _approve(db, clock, drill)
    with pytest.raises(DrillConflict) as again:
        await _approve(db, clock, drill)
    assert again.value.code == "already_approved"
    async with db.read() as session:
        entries = (await session.exec(select(JournalEntry.action))).all()
    assert entries.count("exercise.approved") == 1


async def test_an_approved_test_sends_the_fixed_text_without_a_crisis_and_ends_after_two_days(
    db: Database, clock: FrozenClock
) -> None:
    drill = await _plan(db, clock, await _mayors(db, clock))
    await _approve(db, clock, drill)
    run = await _launch(db, clock, drill)
    assert run.crisis_id is None and run.reach_messages
    deliveries = await _rows(db, Delivery)
    assert len(deliveries) == 2 and await _rows(db, Crisis) == []
    clock.advance(days=1, hours=23)
    async with db.transaction() as session:
        assert await ending.end_finished(session, rules=LAUNCH, now=clock.now()) == 0
    clock.advance(hours=1)
    async with db.transaction() as session:
        assert await ending.end_finished(session, rules=LAUNCH, now=clock.now()) == 1
    async with db.read() as session:
        assert run.id is not None
        assert (await session.get(DrillRun, run.id)).status == RunStatus.ENDED  # type: ignore[union-attr]


async def test_a_second_launch_inside_thirty_days_is_refused_and_writes_nothing(
    db: Database, clock: FrozenClock
) -> None:
    drill = await _plan(db, clock, await _mayors(db, clock))
    await _approve(db, clock, drill)
    await _launch(db, clock, drill)
    clock.advance(days=3)
    async with db.transaction() as session:
        await ending.end_finished(session, rules=LAUNCH, now=clock.now())
    with pytest.raises(DrillConflict) as refused:
        await _launch(db, clock, drill)
    assert refused.value.code == "reachability_too_soon"
    assert len(await _rows(db, DrillRun)) == 1 and len(await _rows(db, Delivery)) == 2


async def test_at_its_instant_an_unapproved_test_is_written_missed_with_the_reason(
    db: Database, clock: FrozenClock
) -> None:
    await _plan(db, clock, await _mayors(db, clock))
    clock.advance(days=1)
    async with db.transaction() as session:
        [run] = await launching.launch_due(session, rules=LAUNCH, now=clock.now())
    assert run.status == RunStatus.MISSED
    assert "approbation du préfet" in (run.stop_reason or "")
    async with db.read() as session:
        tests = (await session.exec(select(Delivery).where(Delivery.purpose == "test"))).all()
    assert tests == []


async def test_at_its_instant_an_approved_test_launches_once(
    db: Database, clock: FrozenClock
) -> None:
    drill = await _plan(db, clock, await _mayors(db, clock))
    await _approve(db, clock, drill)
    clock.advance(days=1)
    async with db.transaction() as session:
        [run] = await launching.launch_due(session, rules=LAUNCH, now=clock.now())
        assert await launching.launch_due(session, rules=LAUNCH, now=clock.now()) == []
    assert run.status == RunStatus.RUNNING
    async with db.read() as session:
        texts = (await session.exec(select(OutboxMessage.text))).all()
    assert texts == [TEXT] and len(await _rows(db, Delivery)) == 2
