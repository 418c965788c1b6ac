"""Helpers for the inject suites: a crisis drill with its scenario, launched, and the tick."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import col, select

from crisis.app.db import Database
from crisis.dispatch.rows import Delivery, OutboxMessage
from exercises import inject_play, inject_reactions, injects, launching
from exercises.inject_play import InjectPlay
from exercises.injects import InjectSpec
from exercises.programme import DrillRun
from tests.exercises.support import LAUNCH, TRAINER, participants, plan
from tests.support import FrozenClock


@dataclass(frozen=True)
class Launched:
    drill_id: int
    run: DrillRun
    people: list[int]
    inject_ids: list[int]


async def launched_with(
    db: Database, clock: FrozenClock, *specs: InjectSpec, people: int = 2
) -> Launched:
    """A crisis drill with `specs` as its scenario, launched now by the trainer."""
    async with db.transaction() as session:
        chosen = await participants(session, now=clock.now(), count=people)
        drill = await plan(
            session, now=clock.now(), people=chosen, starts_at=clock.now() + timedelta(days=30)
        )
        assert drill.id is not None
        ids = []
        for spec in specs:
            inject = await injects.add(
                session, actor=TRAINER, drill_id=drill.id, spec=spec, now=clock.now()
            )
            assert inject.id is not None
            ids.append(inject.id)
        run = await launching.launch_now(
            session, actor=TRAINER, drill_id=drill.id, rules=LAUNCH, now=clock.now()
        )
    return Launched(drill.id, run, chosen, ids)


async def release(db: Database, clock: FrozenClock, drill: Launched, index: int = 0) -> InjectPlay:
    """The trainer releases the drill's `index`-th inject now, in its own transaction."""
    assert drill.run.id is not None
    async with db.transaction() as session:
        return await inject_play.release(
            session,
            actor=TRAINER,
            drill_id=drill.drill_id,
            run_id=drill.run.id,
            inject_id=drill.inject_ids[index],
            now=clock.now(),
        )


async def tick(db: Database, clock: FrozenClock) -> int:
    """The exercise tick's inject part, at the clock's instant."""
    async with db.transaction() as session:
        return await inject_reactions.tick(session, now=clock.now())


async def sent(db: Database, run: DrillRun, marker: str) -> list[tuple[Delivery, str]]:
    """The run's deliveries whose message text holds `marker`, with that text."""
    async with db.read() as session:
        query = (
            select(Delivery, OutboxMessage.text)
            .join(OutboxMessage, col(OutboxMessage.id) == Delivery.message_id)
            .where(Delivery.crisis_id == run.crisis_id)
        )
        rows = (await session.exec(query)).all()
    return [(d, text) for d, text in rows if marker in text]
