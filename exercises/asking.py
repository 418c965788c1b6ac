"""What the scheduler writes instead of a launch, and tells the drill's planner: an occurrence
missed, or one awaiting the trainer (« ask the trainer first », `confirm_first`).

A drill planned with `confirm_first` does not launch at its instant: its run is written
``awaiting`` (unique per occurrence, as a launch), the trainer who planned it is asked by
e-mail with the link to the drill's page, and a trainer's confirmation there launches it
(`exercises.launching.confirm`). A run still unconfirmed ``missed_after`` past its instant is
written missed, journaled like any missed occurrence.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import journal
from crisis.actors import SYSTEM, Actor
from exercises import messages
from exercises.errors import DrillConflict
from exercises.programme import TRAINERS, Drill, DrillRun, RunStatus, get
from exercises.programme import run as run_of

__all__ = ["UNCONFIRMED", "ask_trainer", "awaiting", "decline", "expire_unconfirmed", "missed"]

UNCONFIRMED = "non confirmé par le formateur à temps"


async def _journal(
    session: AsyncSession,
    run: DrillRun,
    *,
    action: str,
    now: datetime,
    actor: Actor = SYSTEM,
    **payload: object,
) -> None:
    occurrence = run.occurrence_at
    await journal.append(
        session,
        actor=actor,
        action=action,
        now=now,
        payload={
            "drill_id": run.drill_id,
            "run_id": run.id,
            "occurrence_at": occurrence.isoformat() if occurrence else None,
            **payload,
        },
    )


def _run(drill: Drill, occurrence: datetime, *, status: RunStatus, late: bool) -> DrillRun:
    assert drill.id is not None
    return DrillRun(
        drill_id=drill.id,
        occurrence_at=occurrence,
        status=status,
        launched_by=SYSTEM.login,
        late=late,
    )


async def missed(
    session: AsyncSession,
    drill: Drill,
    occurrence: datetime,
    *,
    reason: str,
    base_url: str,
    now: datetime,
) -> DrillRun:
    """The occurrence's run, written missed; journaled, and its planner told."""
    run = _run(drill, occurrence, status=RunStatus.MISSED, late=True)
    run.stop_reason, run.ended_at = reason, now
    session.add(run)
    await session.flush()
    told = await messages.tell_planner(
        session,
        login=drill.created_by,
        title=drill.title,
        reason=reason,
        occurrence=occurrence,
        link=f"{base_url}/exercices/{drill.id}",
        now=now,
    )
    await _journal(session, run, action="exercise.missed", now=now, reason=reason, recipients=told)
    return run


async def ask_trainer(
    session: AsyncSession,
    drill: Drill,
    occurrence: datetime,
    *,
    late: bool,
    base_url: str,
    now: datetime,
) -> DrillRun:
    """The occurrence's run, awaiting the trainer; its planner asked; journaled."""
    run = _run(drill, occurrence, status=RunStatus.AWAITING, late=late)
    session.add(run)
    await session.flush()
    told = await messages.ask_planner(
        session,
        login=drill.created_by,
        title=drill.title,
        occurrence=occurrence,
        link=f"{base_url}/exercices/{drill.id}",
        now=now,
    )
    await _journal(session, run, action="exercise.confirmation_asked", now=now, recipients=told)
    return run


async def expire_unconfirmed(
    session: AsyncSession, *, missed_after: timedelta, now: datetime
) -> int:
    """The runs nobody confirmed within `missed_after` of their instant: written missed."""
    query = (
        select(DrillRun)
        .where(
            DrillRun.status == RunStatus.AWAITING,
            col(DrillRun.occurrence_at) < now - missed_after,
        )
        .with_for_update()
    )
    expired = list((await session.exec(query)).all())
    for run in expired:
        run.status, run.stop_reason, run.ended_at = RunStatus.MISSED, UNCONFIRMED, now
        session.add(run)
        await _journal(
            session, run, action="exercise.missed", now=now, reason=UNCONFIRMED, recipients=[]
        )
    return len(expired)


async def awaiting(session: AsyncSession, *, drill_id: int, run_id: int) -> tuple[Drill, DrillRun]:
    """The drill and its run awaiting the trainer, both locked; 409 when it awaits nothing."""
    drill = await get(session, drill_id=drill_id, for_update=True)
    found = await run_of(session, drill_id=drill_id, run_id=run_id)
    if found.status != RunStatus.AWAITING:
        raise DrillConflict(
            "run_not_awaiting",
            "Cette séance n'attend pas de confirmation (elle est lancée, annulée ou manquée).",
            {"status": found.status},
        )
    return drill, found


async def decline(
    session: AsyncSession,
    *,
    actor: Actor,
    drill_id: int,
    run_id: int,
    reason: str = "",
    now: datetime,
) -> DrillRun:
    """A trainer declines a run awaiting them: written cancelled, nothing sent, journaled; the
    drill's next occurrence stays scheduled. 409 when the run awaits nothing."""
    actor.require(*TRAINERS, action="annuler une séance d'exercice")
    _, found = await awaiting(session, drill_id=drill_id, run_id=run_id)
    text = " ".join(reason.split())[:1000] or "annulée par le formateur"
    found.status, found.stop_reason = RunStatus.CANCELLED, text
    found.ended_at, found.ended_by = now, actor.login
    session.add(found)
    await _journal(
        session, found, action="exercise.run_cancelled", now=now, actor=actor, reason=text
    )
    return found
