"""The players' reactions to the injects: the expected action marked done (by the trainer, or
by Tocsin for « premier communiqué aux élus publié »), and the run's injects paused/resumed.

Done on time, late (after the inject's deadline) or not done: the report's reading
(`reaction`). The automatic action is done when a bulletin addressed to the officials is
published in the drill's crisis; done at its publication, or at the inject's play when it
was already published (the expected state holds as the inject arrives).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import journal
from crisis.actors import SYSTEM, Actor
from crisis.bulletin.record import Bulletin
from crisis.vocabulary import Audience
from exercises import programme
from exercises.errors import DrillConflict
from exercises.inject_play import (
    InjectPlay,
    play_due,
    plays_of,
    running_crisis_runs,
    running_run,
)
from exercises.injects import FIRST_OFFICIALS_BULLETIN
from exercises.programme import DrillRun

__all__ = ["auto_done", "mark_done", "pause", "reaction", "resume", "tick"]

REACTION_LABELS = {
    "done": "Faite",
    "late": "Faite en retard",
    "overdue": "Non faite, délai dépassé",
    "waiting": "En attente",
    "not_done": "Non faite",
    "none": "Aucune action attendue",
}


async def _journal_done(
    session: AsyncSession, run: DrillRun, play: InjectPlay, *, actor: Actor, now: datetime
) -> None:
    await journal.append(
        session,
        actor=actor,
        action="exercise.inject_done",
        now=now,
        crisis_id=run.crisis_id,
        payload={
            "drill_id": run.drill_id,
            "run_id": run.id,
            "inject_id": play.inject_id,
            "done_at": play.done_at.isoformat() if play.done_at else None,
        },
    )


async def mark_done(
    session: AsyncSession,
    *,
    actor: Actor,
    drill_id: int,
    run_id: int,
    inject_id: int,
    now: datetime,
) -> InjectPlay:
    """The trainer saw the expected action done, now; 409 before the inject played or twice."""
    actor.require(*programme.TRAINERS, action="noter la réaction à un inject")
    _, run = await running_run(session, drill_id=drill_id, run_id=run_id)
    assert run.id is not None
    play = next(
        (p for p in await plays_of(session, run_id=run.id) if p.inject_id == inject_id), None
    )
    if play is None:
        raise DrillConflict("inject_not_played", "Cet inject n'a pas encore été joué.")
    if play.expected_action is None:
        raise DrillConflict("inject_no_action", "Cet inject n'attend aucune action.")
    if play.done_at is not None:
        raise DrillConflict("inject_done", "L'action attendue est déjà notée comme faite.")
    play.done_at, play.done_by = now, actor.login
    session.add(play)
    await _journal_done(session, run, play, actor=actor, now=now)
    return play


async def _first_officials_bulletin(session: AsyncSession, crisis_id: int) -> datetime | None:
    query = (
        select(Bulletin)
        .where(Bulletin.crisis_id == crisis_id, col(Bulletin.published_at).is_not(None))
        .order_by(col(Bulletin.published_at))
    )
    for bulletin in (await session.exec(query)).all():
        if Audience.OFFICIALS.value in bulletin.audiences:
            return bulletin.published_at
    return None


async def auto_done(session: AsyncSession, *, run: DrillRun, now: datetime) -> int:
    """The run's automatic actions that Tocsin saw done (the run locked by the caller)."""
    assert run.id is not None and run.crisis_id is not None
    waiting = [
        p
        for p in await plays_of(session, run_id=run.id)
        if p.expected_kind == FIRST_OFFICIALS_BULLETIN and p.done_at is None
    ]
    if not waiting:
        return 0
    published = await _first_officials_bulletin(session, run.crisis_id)
    if published is None:
        return 0
    for play in waiting:
        play.done_at, play.done_by = max(published, play.played_at), SYSTEM.login
        session.add(play)
        await _journal_done(session, run, play, actor=SYSTEM, now=now)
    return len(waiting)


async def _switch(
    session: AsyncSession, *, actor: Actor, drill_id: int, run_id: int, now: datetime, on: bool
) -> DrillRun:
    actor.require(*programme.TRAINERS, action="suspendre ou reprendre les injects")
    _, run = await running_run(session, drill_id=drill_id, run_id=run_id)
    paused = run.injects_paused_at
    if on and paused is not None:
        raise DrillConflict("injects_paused", "Les injects de cette séance sont déjà suspendus.")
    if not on and paused is None:
        raise DrillConflict(
            "injects_not_paused", "Les injects de cette séance ne sont pas suspendus."
        )
    if on:
        run.injects_paused_at = now
    else:
        assert paused is not None
        run.injects_paused_seconds += max(0, int((now - paused).total_seconds()))
        run.injects_paused_at = None
    session.add(run)
    await journal.append(
        session,
        actor=actor,
        action="exercise.injects_paused" if on else "exercise.injects_resumed",
        now=now,
        crisis_id=run.crisis_id,
        payload={
            "drill_id": drill_id,
            "run_id": run_id,
            "paused_seconds": run.injects_paused_seconds,
        },
    )
    return run


async def pause(
    session: AsyncSession, *, actor: Actor, drill_id: int, run_id: int, now: datetime
) -> DrillRun:
    return await _switch(session, actor=actor, drill_id=drill_id, run_id=run_id, now=now, on=True)


async def resume(
    session: AsyncSession, *, actor: Actor, drill_id: int, run_id: int, now: datetime
) -> DrillRun:
    return await _switch(session, actor=actor, drill_id=drill_id, run_id=run_id, now=now, on=False)


def reaction(play: InjectPlay, *, now: datetime, running: bool) -> str:
    """done, late, overdue, waiting, not_done or none (no action expected)."""
    if play.expected_action is None:
        return "none"
    deadline = play.deadline
    if play.done_at is not None:
        return "late" if deadline is not None and play.done_at > deadline else "done"
    if deadline is not None and now > deadline:
        return "overdue"
    return "waiting" if running else "not_done"


def play_view(play: InjectPlay, *, now: datetime, running: bool) -> dict[str, Any]:
    state = reaction(play, now=now, running=running)
    deadline = play.deadline
    return {
        "inject_id": play.inject_id,
        "offset_min": play.offset_min,
        "target": play.target,
        "text": play.text,
        "expected_action": play.expected_action,
        "deadline_min": play.deadline_min,
        "played_at": play.played_at.isoformat(),
        "released_by": play.released_by,
        "deliveries": play.deliveries,
        "deadline": deadline.isoformat() if deadline else None,
        "done_at": play.done_at.isoformat() if play.done_at else None,
        "done_by": play.done_by,
        "reaction": state,
        "reaction_label": REACTION_LABELS[state],
    }


async def tick(session: AsyncSession, *, now: datetime) -> int:
    """The exercise tick's part: each running crisis drill's due injects played and its
    automatic actions checked, in the caller's transaction; the number of injects played."""
    played = 0
    for run, drill in await running_crisis_runs(session):
        played += await play_due(session, run, drill, now=now)
        await auto_done(session, run=run, now=now)
    return played
