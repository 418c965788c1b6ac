"""A run's injects, played: by the exercise tick at their offsets, or released by hand.

Each inject plays once per run: its play row is written in the transaction that sends it,
under the run row's lock (``FOR UPDATE``), and a unique (run, inject) constraint backs that
up, so two ticks, two instances or a trainer's click at the tick's instant never send it
twice. The run's injects can be paused: while paused none plays, and on resume every offset
shifts by the time paused. The play keeps what was sent (text, expected action, deadline), so
that the report survives later edits of the scenario.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import journal
from crisis.actors import SYSTEM, Actor
from exercises import inject_messages, injects, programme
from exercises.errors import DrillConflict
from exercises.injects import Inject
from exercises.messages import active_participants
from exercises.programme import Drill, DrillKind, DrillRun, RunStatus
from storage.types import UTCDateTime

__all__ = [
    "InjectPlay",
    "due_at",
    "play_due",
    "plays_of",
    "release",
    "running_crisis_runs",
    "running_run",
]


class InjectPlay(SQLModel, table=True):
    __tablename__ = "exercise_inject_play"
    __table_args__ = (sa.UniqueConstraint("run_id", "inject_id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="exercise_run.id", index=True)
    inject_id: int  # no foreign key: a deleted inject leaves its plays on record
    offset_min: int
    target: str = Field(max_length=300)
    text: str = Field(max_length=2000)
    expected_action: str | None = Field(default=None, max_length=500)
    expected_kind: str | None = Field(default=None, max_length=40)
    deadline_min: int | None = None
    played_at: datetime = Field(sa_type=UTCDateTime)
    released_by: str | None = Field(default=None, max_length=64)  # none: played on time
    deliveries: int = 0
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_by: str | None = Field(default=None, max_length=64)

    @property
    def deadline(self) -> datetime | None:
        if self.deadline_min is None:
            return None
        return self.played_at + timedelta(minutes=self.deadline_min)


def due_at(run: DrillRun, inject: Inject) -> datetime | None:
    """When the inject plays in this run (offset plus time paused); none while paused."""
    if run.launched_at is None or run.injects_paused_at is not None:
        return None
    shift = timedelta(minutes=inject.offset_min, seconds=run.injects_paused_seconds)
    return run.launched_at + shift


async def plays_of(session: AsyncSession, *, run_id: int) -> list[InjectPlay]:
    query = select(InjectPlay).where(InjectPlay.run_id == run_id)
    return list((await session.exec(query.order_by(col(InjectPlay.id)))).all())


async def _names(session: AsyncSession, drill: Drill) -> dict[int, str]:
    return dict(await active_participants(session, drill.participants))


async def _play(
    session: AsyncSession,
    drill: Drill,
    run: DrillRun,
    inject: Inject,
    *,
    actor: Actor,
    names: dict[int, str],
    now: datetime,
) -> InjectPlay:
    assert run.id is not None and run.crisis_id is not None and inject.id is not None
    sent = await inject_messages.send(
        session,
        inject=inject,
        participants=drill.participants,
        crisis_id=run.crisis_id,
        title=drill.title,
        now=now,
    )
    by_hand = actor.login != SYSTEM.login
    play = InjectPlay(
        run_id=run.id,
        inject_id=inject.id,
        offset_min=inject.offset_min,
        target=inject.target_label(names)[:300],
        text=inject.text,
        expected_action=inject.expected_action,
        expected_kind=inject.expected_kind,
        deadline_min=inject.deadline_min,
        played_at=now,
        released_by=actor.login if by_hand else None,
        deliveries=sent,
    )
    session.add(play)
    await session.flush()
    await journal.append(
        session,
        actor=actor,
        action="exercise.inject_released" if by_hand else "exercise.inject_played",
        now=now,
        crisis_id=run.crisis_id,
        payload={
            "drill_id": drill.id,
            "run_id": run.id,
            "inject_id": inject.id,
            "offset_min": inject.offset_min,
            "recipients": sent,
        },
    )
    return play


async def running_crisis_runs(session: AsyncSession) -> list[tuple[DrillRun, Drill]]:
    """The crisis drills' runs going, locked (``FOR UPDATE``) for the caller's transaction."""
    query = (
        select(DrillRun, Drill)
        .join(Drill, col(Drill.id) == DrillRun.drill_id)
        .where(DrillRun.status == RunStatus.RUNNING, Drill.kind == DrillKind.CRISIS)
        .order_by(col(DrillRun.id))
        .with_for_update(of=DrillRun)
        .execution_options(populate_existing=True)
    )
    return [(run, drill) for run, drill in (await session.exec(query)).all()]


async def play_due(session: AsyncSession, run: DrillRun, drill: Drill, *, now: datetime) -> int:
    """Every inject of the run due by `now` and not played yet, played (the run locked by the
    caller); the number played."""
    assert run.id is not None and drill.id is not None
    done = {p.inject_id for p in await plays_of(session, run_id=run.id)}
    due = [
        i
        for i in await injects.of_drill(session, drill_id=drill.id)
        if i.id not in done and (at := due_at(run, i)) is not None and at <= now
    ]
    names = await _names(session, drill) if due else {}
    for inject in due:
        await _play(session, drill, run, inject, actor=SYSTEM, names=names, now=now)
    return len(due)


async def release(
    session: AsyncSession,
    *,
    actor: Actor,
    drill_id: int,
    run_id: int,
    inject_id: int,
    now: datetime,
) -> InjectPlay:
    """The trainer plays an inject now, ahead of its offset; 409 once it has played."""
    actor.require(*programme.TRAINERS, action="déclencher un inject")
    drill, run = await running_run(session, drill_id=drill_id, run_id=run_id)
    inject = await injects.one(session, drill_id=drill_id, inject_id=inject_id)
    assert run.id is not None
    if any(p.inject_id == inject_id for p in await plays_of(session, run_id=run.id)):
        raise DrillConflict("inject_played", "Cet inject a déjà été joué dans cette séance.")
    names = await _names(session, drill)
    return await _play(session, drill, run, inject, actor=actor, names=names, now=now)


async def running_run(
    session: AsyncSession, *, drill_id: int, run_id: int
) -> tuple[Drill, DrillRun]:
    """The drill and its run, locked; 409 unless the run is going."""
    drill = await programme.get(session, drill_id=drill_id)
    found = await programme.run(session, drill_id=drill_id, run_id=run_id)
    if found.status != RunStatus.RUNNING or found.crisis_id is None:
        raise DrillConflict("run_not_running", "Cette séance n'est pas en cours.")
    return drill, found
