"""A run ends: STOP EXERCICE by hand (trainer or prefect), or its natural end (tick).

STOP EXERCICE ends the run at once: the exercise deliveries of its crisis still waiting are
cancelled, its crisis is closed, every participant is told (with their own link to the
three-question feedback form, `exercises.feedback`), and the journal records who stopped it
and why. An on-call test ends by itself after its duration; a crisis drill ends
when its exercise crisis is closed.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import journal
from crisis.actors import SYSTEM, Actor, Role
from crisis.cell import crises, lifecycle
from crisis.dispatch.outbox import Delivery, DeliveryStatus
from crisis.text import visible_length
from crisis.vocabulary import CrisisStatus
from exercises import asking, feedback, messages
from exercises.errors import DrillConflict, DrillRefused
from exercises.launching import LaunchRules
from exercises.programme import Drill, DrillKind, DrillRun, RunStatus, get, run

__all__ = ["end_finished", "stop"]

STOPPERS = (Role.TRAINER, Role.PREFECT)
DELIVERIES = Delivery.__table__  # type: ignore[attr-defined]
WAITING = (DeliveryStatus.PENDING.value, DeliveryStatus.RETRYING.value)


async def _cancel_waiting(session: AsyncSession, *, crisis_id: int) -> int:
    """The exercise deliveries of the crisis not sent yet: cancelled (only exercise rows)."""
    d = DELIVERIES.c
    result = await session.exec(
        sa.update(DELIVERIES)
        .where(d.crisis_id == crisis_id, d.status.in_(WAITING), d.audience == "exercise")
        .values(
            status=DeliveryStatus.CANCELLED.value,
            next_attempt_at=None,
            last_error="STOP EXERCICE",
        )
    )
    return int(result.rowcount or 0)


async def _finish(
    session: AsyncSession,
    drill: Drill,
    found: DrillRun,
    *,
    status: RunStatus,
    actor: Actor,
    headline: str,
    rules: LaunchRules,
    now: datetime,
) -> None:
    found.status = status
    found.ended_at = now
    found.ended_by = actor.login
    session.add(found)
    if found.crisis_id is None:
        return
    crisis = await crises.get(session, crisis_id=found.crisis_id)
    if crisis.is_open:
        await lifecycle.close(session, actor=SYSTEM, crisis_id=found.crisis_id, now=now)
    if rules.feedback_secret and found.id is not None:
        await feedback.invite(
            session,
            run_id=found.id,
            crisis_id=found.crisis_id,
            participants=drill.participants,
            headline=headline,
            title=drill.title,
            secret=rules.feedback_secret,
            base_url=rules.base_url,
            now=now,
        )
        return
    await messages.send_to_participants(
        session,
        crisis_id=found.crisis_id,
        participants=drill.participants,
        headline=headline,
        title=drill.title,
        link=f"{rules.base_url}/exercices/{drill.id}",
        now=now,
    )


async def stop(
    session: AsyncSession,
    *,
    actor: Actor,
    drill_id: int,
    run_id: int,
    reason: str,
    rules: LaunchRules,
    now: datetime,
) -> DrillRun:
    """STOP EXERCICE: 422 without a reason, 409 when the run is not going."""
    actor.require(*STOPPERS, action="arrêter un exercice (STOP EXERCICE)")
    why = " ".join(reason.split())
    if visible_length(why) < 3:
        raise DrillRefused("stop_reason_missing", "Indiquez pourquoi l'exercice est arrêté.")
    drill = await get(session, drill_id=drill_id)
    found = await run(session, drill_id=drill_id, run_id=run_id)
    if found.status != RunStatus.RUNNING:
        raise DrillConflict(
            "run_not_running", "Cette séance n'est pas en cours.", {"status": found.status}
        )
    cancelled = 0
    if found.crisis_id is not None:
        cancelled = await _cancel_waiting(session, crisis_id=found.crisis_id)
    found.stop_reason = why[:1000]
    await _finish(
        session,
        drill,
        found,
        status=RunStatus.STOPPED,
        actor=actor,
        headline=f"STOP EXERCICE : exercice arrêté ({why[:200]})",
        rules=rules,
        now=now,
    )
    await journal.append(
        session,
        actor=actor,
        action="exercise.stopped",
        now=now,
        crisis_id=found.crisis_id,
        payload={
            "drill_id": drill_id,
            "run_id": run_id,
            "reason": why,
            "cancelled_deliveries": cancelled,
        },
    )
    return found


async def end_finished(session: AsyncSession, *, rules: LaunchRules, now: datetime) -> int:
    """Runs that ended by themselves: on-call tests past their duration, crisis drills whose
    crisis was closed. Each ends once (the run row is read and written in this transaction).
    Runs still awaiting their trainer's confirmation past `missed_after` are written missed."""
    await asking.expire_unconfirmed(session, missed_after=rules.missed_after, now=now)
    query = (
        select(DrillRun, Drill)
        .join(Drill, col(Drill.id) == DrillRun.drill_id)
        .where(DrillRun.status == RunStatus.RUNNING)
        .with_for_update(of=DrillRun)
    )
    ended = 0
    for found, drill in (await session.exec(query)).all():
        if drill.kind in (DrillKind.ON_CALL, DrillKind.REACHABILITY):
            assert found.launched_at is not None
            lasts = (
                rules.on_call_duration
                if drill.kind == DrillKind.ON_CALL
                else rules.reachability_duration
            )
            if now < found.launched_at + lasts:
                continue
        elif found.crisis_id is not None:
            crisis = await crises.get(session, crisis_id=found.crisis_id)
            if crisis.status != CrisisStatus.CLOSED:
                continue
        await _finish(
            session,
            drill,
            found,
            status=RunStatus.ENDED,
            actor=SYSTEM,
            headline=messages.END_TEXT,
            rules=rules,
            now=now,
        )
        await journal.append(
            session,
            actor=SYSTEM,
            action="exercise.ended",
            now=now,
            crisis_id=found.crisis_id,
            payload={"drill_id": drill.id, "run_id": found.id},
        )
        ended += 1
    return ended
